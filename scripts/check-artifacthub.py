#!/usr/bin/env python3
"""Fails when artifacthub-pkg.yml is out of sync with metadata.yml (and questions-ui.yml).

Same rules as scripts/artifacthub.py (and kwctl scaffold artifacthub): version,
name, displayName, description, license, homeURL, containersImages (the OCI
reference), keywords, links, maintainers, provider, recommendations, and the
annotations kubewarden/mutation, kubewarden/contextAwareResources,
kubewarden/rules, kubewarden/resources, kubewarden/questions-ui,
kubewarden/hidden-ui. createdAt must be an RFC 3339 time; install must name
the OCI reference. Fields Artifact Hub has and metadata.yml says nothing about
(readme, changes, ...) are left alone.

Fix a failure with `make artifacthub`.

Usage: scripts/check-artifacthub.py [--metadata metadata.yml] [--pkg artifacthub-pkg.yml]
                                    [--questions questions-ui.yml | --no-questions]
"""

import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artifacthub  # noqa: E402  (the generator: one set of rules)

yaml = artifacthub.yaml

# Annotations whose value is YAML text: compared as what they mean.
YAML_ANNOTATIONS = ("kubewarden/contextAwareResources", "kubewarden/rules")


def check(pkg, expected):
    problems = []

    def differ(field, want, got):
        problems.append(f"{field}: metadata.yml gives {want!r}, artifacthub-pkg.yml has {got!r}")

    if not isinstance(pkg, dict):
        return ["artifacthub-pkg.yml is not a mapping"]
    for field, want in expected.items():
        got = pkg.get(field)
        if field == "annotations":
            continue
        if field == "description":
            if not isinstance(got, str) or got.strip() != want:
                differ(field, want, got)
        elif field == "version":
            if str(got) != want:
                differ(field, want, got)
        elif got != want:
            differ(field, want, got)
    if "maintainers" not in expected and pkg.get("maintainers"):
        problems.append(
            "maintainers: artifacthub-pkg.yml lists maintainers, but io.kubewarden.policy.author "
            "holds no e-mail address"
        )

    created = pkg.get("createdAt")
    try:
        if isinstance(created, datetime.datetime):
            if created.tzinfo is None:
                raise ValueError("no time zone")
        else:
            artifacthub.parse_rfc3339(created)
    except (ValueError, TypeError) as e:
        problems.append(f"createdAt: {created!r} is not an RFC 3339 time ({e})")

    image = expected["containersImages"][0]["image"]
    install = pkg.get("install")
    if not isinstance(install, str) or image not in install:
        problems.append(f"install: must tell how to get {image}")

    got_ann = pkg.get("annotations")
    if not isinstance(got_ann, dict):
        problems.append("annotations: missing")
        return problems
    want_ann = expected["annotations"]
    for key in sorted(set(want_ann) | {k for k in got_ann if k.startswith("kubewarden/")}):
        want, got = want_ann.get(key), got_ann.get(key)
        if want is None:
            problems.append(f"annotations.{key}: not in metadata.yml (or questions-ui.yml), but artifacthub-pkg.yml has {got!r}")
        elif got is None:
            problems.append(f"annotations.{key}: missing (metadata.yml gives {want!r})")
        elif key in YAML_ANNOTATIONS:
            try:
                same = yaml.safe_load(got) == yaml.safe_load(want)
            except yaml.YAMLError:
                same = False
            if not same:
                differ(f"annotations.{key}", want, got)
        elif key == "kubewarden/questions-ui":
            if got != want:
                problems.append(
                    "annotations.kubewarden/questions-ui: differs from questions-ui.yml"
                )
        elif str(got) != want:
            differ(f"annotations.{key}", want, got)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metadata", default="metadata.yml")
    parser.add_argument("--pkg", default="artifacthub-pkg.yml")
    parser.add_argument("--questions", default=None)
    parser.add_argument("--no-questions", action="store_true")
    args = parser.parse_args(argv)

    questions = artifacthub.questions_path(args.metadata, args.questions, args.no_questions)
    try:
        metadata = artifacthub.load_yaml(args.metadata)
        questions_text = None if args.no_questions else artifacthub.read_optional(questions)
        expected = artifacthub.expected_fields(metadata, questions_text)
        pkg = artifacthub.load_yaml(args.pkg)
    except (OSError, yaml.YAMLError, artifacthub.MetadataError) as e:
        print(f"check-artifacthub: {e}", file=sys.stderr)
        return 2
    problems = check(pkg, expected)
    if problems:
        print(f"check-artifacthub: {args.pkg} is out of sync with {args.metadata}:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print("  run `make artifacthub` to regenerate it", file=sys.stderr)
        return 1
    print(f"check-artifacthub: {args.pkg} is in sync with {args.metadata} ({len(expected)} fields)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
