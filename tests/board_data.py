"""Shared data for the review-board tests: a two-trial library, board members and a cheap hasher."""

from __future__ import annotations

from argon2 import PasswordHasher

QUESTION = "Does metformin prevent type 2 diabetes in adults with prediabetes?"
OTHER_QUESTION = "Does a lifestyle intervention reduce diabetes risk in prediabetes?"
RECORDS = [
    {
        "pmid": "111",
        "title": "Metformin for the prevention of type 2 diabetes: a randomized trial",
        "abstract": "We randomly assigned 3234 adults with prediabetes to metformin or placebo. Metformin reduced the "
        "incidence of type 2 diabetes by 31% compared with placebo over 2.8 years.",
        "year": 2002,
        "publication_types": ["Randomized Controlled Trial"],
    },
    {
        "pmid": "222",
        "title": "Lifestyle intervention and diabetes incidence in adults with prediabetes",
        "abstract": "In this randomized trial of 522 overweight adults with impaired glucose tolerance, an intensive "
        "lifestyle intervention reduced the risk of type 2 diabetes by 58%.",
        "year": 2001,
        "publication_types": ["Randomized Controlled Trial"],
    },
]
PASSWORDS = {
    "ada": "admin passphrase 1",
    "carol": "editor passphrase 1",
    "dana": "reviewer pass 1",
    "erin": "reviewer pass 2",
}
# A cheap argon2 setting keeps sign-ins fast; the real setting is tested in test_board.py.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
