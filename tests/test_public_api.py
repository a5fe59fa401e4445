import pkgutil

import medevidence


def test_all_is_sorted_and_nothing_is_public_by_accident() -> None:
    assert medevidence.__all__ == sorted(medevidence.__all__)
    modules = {module.name for module in pkgutil.iter_modules(medevidence.__path__)}
    public = {name for name in dir(medevidence) if not name.startswith("_")}
    assert public - modules - set(medevidence.__all__) == set(), "something became public by accident"
    assert all(hasattr(medevidence, name) for name in medevidence.__all__)
