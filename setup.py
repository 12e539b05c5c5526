"""Installation script for stargan-vc.

setuptools is capped below 81 at run time because pyworld 0.3.5 and pysptk 1.0.1 still
``import pkg_resources``, which setuptools 81+ no longer ships.
"""
from setuptools import find_packages, setup

CONSOLE_SCRIPTS = [
    "vc-prepare-data=vc.cli.prepare_data:main",
    "vc-split-data=vc.cli.split_data:main",
    "vc-extract=vc.cli.extract:main",
    "vc-stats=vc.cli.stats:main",
    "vc-resynth=vc.cli.resynth:main",
    "vc-train=vc.cli.train:main",
    "vc-convert=vc.cli.convert:main",
    "vc-evaluate=vc.cli.evaluate:main",
    "vc-assess=vc.cli.assess:main",
    "vc-img-train=vc.cli.img_train:main",
    "vc-img-translate=vc.cli.img_translate:main",
    "vc-img-evaluate=vc.cli.img_evaluate:main",
    "vc-img-judges=vc.cli.img_judges:main",
    "vc-img-prepare=vc.cli.img_prepare:main",
]

setup(
    name="stargan-vc",
    version="0.1.0",
    description="StarGAN voice conversion and image translation toolkit",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["vc", "vc.*"]),
    include_package_data=True,
    install_requires=[
        "torch>=2.1",
        "numpy>=1.23",
        "scipy>=1.9",
        "librosa>=0.10",
        "soundfile>=0.12",
        "soxr>=0.3",
        "pyworld>=0.3.4",
        "pysptk>=0.2",
        "setuptools<81",
        "pyyaml>=6",
        "tqdm>=4.60",
        "matplotlib>=3.6",
    ],
    extras_require={
        "eval": ["resemblyzer>=0.1.4"],
        "test": ["pytest>=7"],
    },
    entry_points={"console_scripts": CONSOLE_SCRIPTS},
)
