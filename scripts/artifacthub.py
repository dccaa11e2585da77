#!/usr/bin/env python3
"""Writes artifacthub-pkg.yml from metadata.yml, as `kwctl scaffold artifacthub` does.

`make artifacthub` runs kwctl when it is on PATH and this script otherwise.
The fields follow kwctl's generator (policy-evaluator's ArtifactHubPkg):

  version            io.kubewarden.policy.version
  name               io.kubewarden.policy.title
  displayName        io.artifacthub.displayName
  createdAt          RFC 3339; kept from the existing file while the version is
                     unchanged (so regenerating changes nothing), else
                     SOURCE_DATE_EPOCH, else now
  description        io.kubewarden.policy.description
  license            io.kubewarden.policy.license
  homeURL            io.kubewarden.policy.url
  containersImages   [{name: policy, image: <io.kubewarden.policy.ociUrl>:v<version>}]
  keywords           io.artifacthub.keywords, comma-separated
  links              source (io.kubewarden.policy.source) and, on GitHub, the
                     release's policy.wasm
  install            kwctl pull / scaffold manifest, then the README's install
                     section when --readme names a README that has one
  maintainers        io.kubewarden.policy.author ("Name <email>, ..."), when it
                     holds e-mail addresses
  provider, recommendations   as kwctl writes them
  annotations        kubewarden/mutation, kubewarden/contextAwareResources,
                     kubewarden/rules (from metadata.yml's own fields),
                     kubewarden/resources (io.artifacthub.resources),
                     kubewarden/questions-ui (--questions), kubewarden/hidden-ui

scripts/check-artifacthub.py checks an existing artifacthub-pkg.yml against
metadata.yml with the same rules (`expected_fields` below).

Usage: scripts/artifacthub.py [--metadata metadata.yml] [--questions questions-ui.yml]
                              [--readme README.md] [--output artifacthub-pkg.yml | -]
                              [--created-at RFC3339]
"""

import argparse
import datetime
import os
import re
import sys
from urllib.parse import quote, urlparse

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("PyYAML is needed (Debian: apt-get install python3-yaml; pip install pyyaml)")

HEADER = """# Kubewarden Artifacthub Package config
#
# Use this config to submit the policy to https://artifacthub.io.
#
# This config can be saved to its default location with:
#   kwctl scaffold artifacthub > artifacthub-pkg.yml """

RECOMMENDATION = "https://artifacthub.io/packages/helm/kubewarden/kubewarden-controller"

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class MetadataError(Exception):
    pass


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def annotation(annotations, key, required=True):
    value = annotations.get(key)
    if value is None:
        if required:
            raise MetadataError(f"metadata.yml: annotation {key} is missing")
        return None
    if not isinstance(value, str):
        raise MetadataError(f"metadata.yml: annotation {key} must be a string, found {value!r}")
    return value


def parse_maintainers(author):
    """'Name <a@b.c>, Other <d@e.f>' -> [{name, email}]; None when no e-mail is given."""
    if author is None:
        return None
    out = []
    for part in [p.strip() for p in author.split(",") if p.strip()]:
        m = re.match(r"^(.*?)\s*<([^>]+)>$", part)
        name, email = (m.group(1).strip().strip('"'), m.group(2).strip()) if m else ("", part)
        if not EMAIL.match(email):
            return None
        out.append({"name": name, "email": email})
    return out or None


def readme_install_section(readme_text):
    """The body of the README's first heading that mentions installing, if any."""
    if not readme_text:
        return None
    lines = readme_text.splitlines()
    in_fence = False
    start = level = None
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if not m:
            continue
        if start is None:
            if re.search(r"\binstall", m.group(2), re.IGNORECASE):
                start, level = i + 1, len(m.group(1))
        elif len(m.group(1)) <= level:
            body = "\n".join(lines[start:i]).strip()
            return body or None
    if start is not None:
        return "\n".join(lines[start:]).strip() or None
    return None


def expected_fields(metadata, questions_text=None):
    """Every field of artifacthub-pkg.yml that follows from metadata.yml (and questions-ui.yml)."""
    if not isinstance(metadata, dict):
        raise MetadataError("metadata.yml: not a mapping")
    ann = metadata.get("annotations") or {}
    if not ann:
        raise MetadataError("metadata.yml: no annotations")
    version = annotation(ann, "io.kubewarden.policy.version")
    if not SEMVER.match(version):
        raise MetadataError(f"metadata.yml: io.kubewarden.policy.version {version!r} is not a semver version")
    if questions_text is not None and not questions_text.strip():
        raise MetadataError("questions-ui file is empty")
    oci = annotation(ann, "io.kubewarden.policy.ociUrl")
    image = f"{oci}:v{version}"
    fields = {
        "version": version,
        "name": annotation(ann, "io.kubewarden.policy.title"),
        "displayName": annotation(ann, "io.artifacthub.displayName"),
        "description": annotation(ann, "io.kubewarden.policy.description").strip(),
    }
    license_ = annotation(ann, "io.kubewarden.policy.license", required=False)
    if license_ is not None:
        fields["license"] = license_
    url = annotation(ann, "io.kubewarden.policy.url", required=False)
    if url is not None:
        fields["homeURL"] = url
    fields["containersImages"] = [{"name": "policy", "image": image}]
    keywords = annotation(ann, "io.artifacthub.keywords", required=False)
    if keywords is not None:
        words = [w.strip(" ") for w in keywords.split(",")]
        if any(not w for w in words):
            raise MetadataError("metadata.yml: io.artifacthub.keywords has an empty keyword")
        fields["keywords"] = words
    source = annotation(ann, "io.kubewarden.policy.source", required=False)
    if source is not None:
        links = []
        if urlparse(source).hostname == "github.com":
            tag = ann.get("com.github.release.tag")
            release = quote(tag, safe="") if tag else f"v{version}"
            links.append({"name": "policy", "url": f"{source.rstrip('/')}/releases/download/{release}/policy.wasm"})
        links.append({"name": "source", "url": source})
        fields["links"] = links
    maintainers = parse_maintainers(annotation(ann, "io.kubewarden.policy.author", required=False))
    if maintainers:
        fields["maintainers"] = maintainers
    fields["provider"] = {"name": "kubewarden"}
    fields["recommendations"] = [{"url": RECOMMENDATION}]

    annotations = {"kubewarden/mutation": "true" if metadata.get("mutating") else "false"}
    car = metadata.get("contextAwareResources") or []
    if car:
        annotations["kubewarden/contextAwareResources"] = dump_block(
            [{"apiVersion": r.get("apiVersion"), "kind": r.get("kind")} for r in car]
        )
    annotations["kubewarden/rules"] = dump_block(metadata.get("rules") or [])
    if questions_text is not None:
        annotations["kubewarden/questions-ui"] = questions_text
    hidden = ann.get("io.kubewarden.hidden-ui")
    if hidden is not None:
        if str(hidden).lower() not in ("true", "false"):
            raise MetadataError("metadata.yml: io.kubewarden.hidden-ui must be 'true' or 'false'")
        annotations["kubewarden/hidden-ui"] = str(hidden).lower()
    resources = annotation(ann, "io.artifacthub.resources", required=False)
    if resources is not None:
        annotations["kubewarden/resources"] = resources
    fields["annotations"] = dict(sorted(annotations.items()))
    return fields


def absolute_links(markdown, base):
    """Markdown links relative to the repository made absolute (`base`: .../blob/<tag>)."""
    if not base:
        return markdown

    def fix(m):
        text, target = m.group(1), m.group(2)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            return m.group(0)
        if target.startswith("#"):
            target = "README.md" + target
        return f"[{text}]({base}/{target.lstrip('./')})"

    return re.sub(r"\[([^\]]*)\]\(([^)\s]+)\)", fix, markdown)


def install_text(image, readme_text=None, link_base=None):
    text = (
        "The policy can be obtained using [`kwctl`](https://github.com/kubewarden/kwctl):\n"
        "```console\n"
        f"kwctl pull {image}\n"
        "```\n"
        "Then, generate the policy manifest and tune it to your liking. For example:\n"
        "```console\n"
        f"kwctl scaffold manifest -t ClusterAdmissionPolicy registry://{image}\n"
        "```\n"
    )
    section = readme_install_section(readme_text)
    if section:
        text += "\n" + absolute_links(section, link_base) + "\n"
    return text


def build(metadata, questions_text=None, readme_text=None, created_at=None):
    fields = expected_fields(metadata, questions_text)
    pkg = {}
    for key in ("version", "name", "displayName"):
        pkg[key] = fields[key]
    pkg["createdAt"] = Plain(created_at) if created_at is not None else None
    for key in ("description", "license", "homeURL", "containersImages", "keywords", "links"):
        if key in fields:
            pkg[key] = fields[key]
    source = next((l["url"] for l in fields.get("links", []) if l["name"] == "source"), None)
    link_base = None
    if source and urlparse(source).hostname == "github.com":
        link_base = f"{source.rstrip('/')}/blob/v{fields['version']}"
    pkg["install"] = install_text(fields["containersImages"][0]["image"], readme_text, link_base)
    for key in ("maintainers", "provider", "recommendations", "annotations"):
        if key in fields:
            pkg[key] = fields[key]
    return pkg


# ── YAML output in kwctl's style (serde_yaml: block style, '' quotes, | blocks) ──

def dump_block(value):
    return "".join(emit(value, 0))


class Plain(str):
    """A string written as it is (createdAt: kwctl writes the timestamp unquoted)."""


def scalar(s):
    if isinstance(s, Plain):
        return str(s)
    if isinstance(s, bool):
        return "true" if s else "false"
    if s is None:
        return "null"
    if isinstance(s, (int, float)):
        return str(s)
    if s and s == s.strip() and "\n" not in s and not s.startswith(("'", '"')):
        try:
            if yaml.safe_load(f"k: {s}") == {"k": s} and "#" not in s:
                return s
        except yaml.YAMLError:
            pass
    if all(c == "\t" or c >= " " for c in s):
        return "'" + s.replace("'", "''") + "'"
    return yaml.safe_dump(s, default_style='"', width=1_000_000).strip()


def emit(value, indent):
    pad = " " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            yield from emit_entry(pad, indent, k, v)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                first = True
                for k, v in item.items():
                    lead = pad + "- " if first else pad + "  "
                    first = False
                    yield from emit_entry(lead, indent + 2, k, v)
            elif isinstance(item, list) and item:
                yield pad + "-\n"
                yield from emit(item, indent + 2)
            else:
                yield pad + "- " + inline(item) + "\n"


def emit_entry(lead, indent, key, value):
    key = scalar(str(key))
    if isinstance(value, dict) and value:
        yield f"{lead}{key}:\n"
        yield from emit(value, indent + 2)
    elif isinstance(value, list) and value:
        # serde_yaml puts a mapping's list at the key's own indentation.
        yield f"{lead}{key}:\n"
        yield from emit(value, indent)
    elif isinstance(value, str) and "\n" in value and value.strip():
        yield from literal_block(lead, indent, key, value)
    else:
        yield f"{lead}{key}: {inline(value)}\n"


def literal_block(lead, indent, key, value):
    """A multi-line string as a `|` block: `|` one final newline, `|-` none, `|+` more."""
    if not value.endswith("\n"):
        chomp, body = "-", value
    elif value.endswith("\n\n"):
        chomp, body = "+", value[:-1]
    else:
        chomp, body = "", value[:-1]
    indicator = "2" if body.startswith((" ", "\n")) else ""
    yield f"{lead}{key}: |{indicator}{chomp}\n"
    for line in body.split("\n"):
        yield (" " * (indent + 2) + line + "\n") if line else "\n"


def inline(value):
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def render(pkg):
    return HEADER + "\n" + dump_block(pkg)


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text):
    if not isinstance(text, str):
        raise ValueError(f"not a string: {text!r}")
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    # Python < 3.11 accepts at most 6 fraction digits.
    t = re.sub(r"(\.\d{6})\d+", r"\1", t)
    dt = datetime.datetime.fromisoformat(t)
    if dt.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return dt


def created_at_for(version, output, explicit=None):
    if explicit:
        parse_rfc3339(explicit)
        return explicit
    if output and output != "-" and os.path.exists(output):
        try:
            existing = load_yaml(output) or {}
            if str(existing.get("version")) == version and existing.get("createdAt"):
                value = existing["createdAt"]
                if isinstance(value, datetime.datetime):
                    value = rfc3339(value)
                parse_rfc3339(str(value))
                return str(value)
        except (yaml.YAMLError, ValueError, AttributeError):
            pass
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return rfc3339(datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc))
    return rfc3339(datetime.datetime.now(datetime.timezone.utc))


def read_optional(path):
    if path is None:
        return None
    with open(path, encoding="utf-8") as f:
        return f.read()


def questions_path(metadata, questions, no_questions):
    """The questions file: the one given, else questions-ui.yml beside metadata.yml if there."""
    if questions is not None or no_questions:
        return questions
    beside = os.path.join(os.path.dirname(os.path.abspath(metadata)), "questions-ui.yml")
    return beside if os.path.exists(beside) else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metadata", default="metadata.yml")
    parser.add_argument("--questions", default=None,
                        help="questions-ui.yml (default: questions-ui.yml beside metadata.yml, if there)")
    parser.add_argument("--no-questions", action="store_true")
    parser.add_argument("--readme", default=None, help="README whose install section is appended to `install`")
    parser.add_argument("--output", "-o", default="artifacthub-pkg.yml", help="file, or - for stdout")
    parser.add_argument("--created-at", default=None)
    args = parser.parse_args(argv)

    questions = questions_path(args.metadata, args.questions, args.no_questions)
    try:
        metadata = load_yaml(args.metadata)
        questions_text = None if args.no_questions else read_optional(questions)
        readme_text = read_optional(args.readme)
        version = expected_fields(metadata, questions_text)["version"]
        created = created_at_for(version, args.output, args.created_at)
        pkg = build(metadata, questions_text, readme_text, created)
    except (OSError, yaml.YAMLError, MetadataError, ValueError) as e:
        print(f"artifacthub.py: {e}", file=sys.stderr)
        return 1
    if "maintainers" not in pkg:
        print("artifacthub.py: note: io.kubewarden.policy.author holds no e-mail address "
              "(\"Name <email>\"): no maintainers written; `kwctl scaffold artifacthub` refuses such an author",
              file=sys.stderr)
    text = render(pkg)
    # The file must read back as what was meant.
    if yaml.safe_load(text) != {**pkg, "createdAt": yaml.safe_load(f"k: {created}")["k"]}:
        print("artifacthub.py: internal error: the output does not read back", file=sys.stderr)
        return 2
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
