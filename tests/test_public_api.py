import medevidence


def test_all_is_sorted_and_complete() -> None:
    assert medevidence.__all__ == sorted(medevidence.__all__)
    public = {name for name in dir(medevidence) if not name.startswith("_")}
    modules = {"cli", "config", "errors", "ingest", "library", "migrations", "models", "progress", "sentences", "store"}
    assert public - modules - set(medevidence.__all__) == set(), "something became public by accident"
