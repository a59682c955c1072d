"""Regenerate ``confide_contracts/codes/data/icd10cm_f_chapter.csv``: chapter 5 (F01-F99,
mental, behavioral and neurodevelopmental disorders) of ICD-10-CM.

Source: the CMS/NCHS ICD-10-CM tabular list as shipped in the PyPI package
``simple-icd-10-cm`` (release noted in the file's first line). Run with
``uv run --no-project --with simple-icd-10-cm python libs/contracts/scripts/make_icd10_f_chapter.py``.
"""

import csv
import importlib.metadata
import io
import pathlib

import simple_icd_10_cm as icd

OUT = pathlib.Path(__file__).parents[1] / "src" / "confide_contracts" / "codes" / "data" / "icd10cm_f_chapter.csv"


def dotted(code: str) -> str:
    return code if len(code) <= 3 or "." in code else f"{code[:3]}.{code[3:]}"


def main() -> None:
    data_files = [p.name for p in importlib.metadata.files("simple-icd-10-cm") if p.name.startswith("code-list")]
    rows = []
    for code in icd.get_all_codes(False):
        if code.startswith("F") and (icd.is_category_or_subcategory(code) or icd.is_leaf(code)):
            rows.append((dotted(code), "yes" if icd.is_leaf(code) else "no", icd.get_description(code)))
    buffer = io.StringIO()
    release = f"simple-icd-10-cm {importlib.metadata.version('simple-icd-10-cm')} ({', '.join(data_files)})"
    buffer.write(f"# ICD-10-CM chapter 5 (F01-F99); source: {release}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "billable", "description"])
    writer.writerows(sorted(set(rows)))
    OUT.write_text(buffer.getvalue())
    print(f"wrote {len(rows)} codes to {OUT}")


if __name__ == "__main__":
    main()
