"""Generate examples/contacts.csv: a contact export shaped like an ESP's.

Semicolon-separated UTF-8 with a byte order mark, as spreadsheet tools save
it: yes/no written in mixed spellings (English, French, 1/0), dates in several
formats (ISO, day-first numeric, month names), a quoted name holding a line
break, a few contacts listed twice, and a handful of bad rows. The output is
the same on every run (fixed seed).

Run it from the repository root: ``python examples/make_contacts.py``.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

ROWS = 3000
SEED = 20240601
OUT = Path(__file__).with_name("contacts.csv")

FIRST = [
    "Anne",
    "Bruno",
    "Chloé",
    "David",
    "Emma",
    "Farid",
    "Gaëlle",
    "Hugo",
    "Inès",
    "Jules",
    "Karim",
    "Léa",
    "Marc",
    "Nora",
    "Oscar",
    "Paula",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
]
YES = ["yes", "Yes", "TRUE", "true", "1", "oui", "Oui", " yes "]
NO = ["no", "No", "FALSE", "false", "0", "non", "NON"]
BAD = [
    ("maybe", "2023-05-04 10:00:00"),
    ("yes", "2024-03"),
    ("no", "14:22"),
    ("oui", "31/02/2020 09:00"),
    ("1", "1A2B"),
    ("y", "2022-11-30 08:15:00"),
    ("true", ""),
]


def moment(rng: random.Random) -> datetime:
    """A moment between 2015 and 2024, to the second."""
    start = datetime(2015, 1, 1)
    return start + timedelta(seconds=rng.randrange(10 * 365 * 86400))


def written(rng: random.Random, when: datetime) -> str:
    """The moment in one of the formats exports use."""
    style = rng.random()
    if style < 0.55:
        return when.strftime("%Y-%m-%d %H:%M:%S")  # Mailchimp's LAST_CHANGED
    if style < 0.75:
        return when.strftime("%d/%m/%Y %H:%M")
    if style < 0.85:
        return when.strftime("%Y-%m-%dT%H:%M:%S+02:00")
    if style < 0.93:
        return when.strftime("%d %b %Y")
    return when.strftime("%B %d, %Y %I:%M %p")


def rows(rng: random.Random) -> list[list[str]]:
    """The data rows, bad ones and repeated contacts included."""
    out = []
    for n in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}.{n}@example.com"
        answer = "" if rng.random() < 0.08 else rng.choice(YES + NO)
        date = written(rng, moment(rng)) if answer else ""
        out.append([email, first, last, answer, date])
    for n in range(0, ROWS, 97):  # listed again, with another answer
        email, first, last = out[n][:3]
        out.append(
            [email, first, last, rng.choice(YES + NO), written(rng, moment(rng))]
        )
    for n, (answer, date) in enumerate(BAD):
        out.insert(150 + n * 400, [f"bad.{n}@example.com", "Bad", "Row", answer, date])
    out.insert(10, ["", "No", "Address", "yes", "2021-06-01 12:00:00"])
    out[3][2] = "Martin\nDubois"  # a quoted cell holding a line break
    out[4][1] = "Anne; Marie"  # a quoted cell holding the delimiter
    return out


def main() -> None:
    """Write the file."""
    rng = random.Random(SEED)
    with OUT.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(
            ["Email Address", "First Name", "Last Name", "Tracking OK", "LAST_CHANGED"]
        )
        writer.writerows(rows(rng))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
