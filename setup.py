"""Packaging for tsssl. Every setting lives in settings.ini (nbdev 2); this file only reads it."""
import shutil
from configparser import ConfigParser
from pathlib import Path

import setuptools
from setuptools.command.build_py import build_py

cfg = ConfigParser(delimiters=["="])
cfg.read("settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

expected = ["version", "description", "keywords", "author", "author_email", "license", "status",
            "min_python", "audience", "language", "lib_name", "user"]
missing = [k for k in expected if k not in cfg]
if missing: raise ValueError(f"settings.ini is missing {missing}")

licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License"),
            "mit": ("MIT License", "OSI Approved :: MIT License")}
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable",
            "6 - Mature", "7 - Inactive"]
py_versions = "3.10 3.11 3.12 3.13".split()
min_python = cfg["min_python"]
lic = licenses.get(cfg["license"].lower(), (cfg["license"], None))

requirements = cfg.get("requirements", "").split()
dev_requirements = cfg.get("dev_requirements", "").split()
ucr_requirements = cfg.get("ucr_requirements", "").split()  # the offline UCR sets A-G (FordA, ECG5000, ...)
parquet_requirements = cfg.get("parquet_requirements", "").split()  # reading your own series from Parquet files (tsssl.sources)
scripts = [s.strip() for s in cfg.get("console_scripts", "").split()]

class BuildWithExperiments(build_py):
    "Also ship the papermill notebooks of nbs/experiments as tsssl/experiments, so `tsssl figures` runs from any install."
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False): return  # an editable install reads them from the repository
        dest = Path(self.build_lib) / cfg["lib_name"] / "experiments"
        dest.mkdir(parents=True, exist_ok=True)
        for nb in sorted(Path("nbs/experiments").glob("*.ipynb")): shutil.copy2(nb, dest / nb.name)

setuptools.setup(
    cmdclass={"build_py": BuildWithExperiments},
    name=cfg["lib_name"],
    version=cfg["version"],
    license=lic[0],
    classifiers=["Development Status :: " + statuses[int(cfg["status"])],
                 "Intended Audience :: " + cfg["audience"].title(),
                 "Natural Language :: " + cfg["language"].title()]
                + [f"Programming Language :: Python :: {v}" for v in py_versions[py_versions.index(min_python):]]
                + ([f"License :: {lic[1]}"] if lic[1] else []),
    url=cfg["git_url"],
    packages=setuptools.find_packages(include=[cfg["lib_name"], cfg["lib_name"] + ".*"]),
    include_package_data=True,
    package_data={cfg["lib_name"]: ["thesis_results/*.csv", "thesis_results/*.md"]},  # the thesis' recorded results (tsssl.thesis)
    install_requires=requirements,
    extras_require={"ucr": ucr_requirements, "parquet": parquet_requirements,
                    "dev": dev_requirements + ucr_requirements + parquet_requirements},
    dependency_links=cfg.get("dep_links", "").split(),
    python_requires=">=" + min_python,
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    zip_safe=False,
    entry_points={"console_scripts": scripts, "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    author=cfg["author"], author_email=cfg["author_email"],
    description=cfg["description"], keywords=cfg["keywords"],
)
