"""Protobuf classes generated at run time by `protoc --python_out` from Schemas/margin/v1/*.proto
(into the work directory: nothing of this project's Swift code is used), and descriptor walks.

Use the classes as `proto.account_pb2`, `proto.market_pb2`, ... after `load(workdir)`."""

import glob
import math
import os
import subprocess
import sys

from .common import ROOT, ScenarioError, short

account_pb2 = market_pb2 = params_pb2 = result_pb2 = None
FD = json_format = None


def load(workdir):
    global account_pb2, market_pb2, params_pb2, result_pb2, FD, json_format
    out = os.path.join(workdir, "gen")
    os.makedirs(out)
    protos = sorted(glob.glob(os.path.join(ROOT, "Schemas", "margin", "v1", "*.proto")))
    if not protos:
        raise ScenarioError("no Schemas/margin/v1/*.proto")
    subprocess.run(["protoc", f"--python_out={out}", "-I", os.path.join(ROOT, "Schemas")] + protos,
                   check=True, timeout=60)
    sys.path.insert(0, out)
    from margin.v1 import account_pb2, market_pb2, params_pb2, result_pb2  # noqa: F401,F811
    from google.protobuf.descriptor import FieldDescriptor as FD  # noqa: N811,F811
    from google.protobuf import json_format  # noqa: F811


def decode(cls, value, ctype):
    try:
        if ctype == "application/json":
            return json_format.Parse(value.decode(), cls(), ignore_unknown_fields=True)
        message = cls()
        message.ParseFromString(value)
        return message
    except Exception:  # noqa: BLE001
        return None


def nonfinite_fields(message, path=""):
    """Every non-finite double/float in `message`, found by walking its descriptor."""
    found = []
    for fd, value in message.ListFields():
        p = f"{path}.{fd.name}" if path else fd.name
        if fd.type == FD.TYPE_MESSAGE:
            if fd.message_type.GetOptions().map_entry:
                vfd = fd.message_type.fields_by_name["value"]
                for k, v in value.items():
                    if vfd.type == FD.TYPE_MESSAGE:
                        found += nonfinite_fields(v, f"{p}[{k}]")
                    elif vfd.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT) and not math.isfinite(v):
                        found.append((f"{p}[{k}]", v))
            elif fd.label == FD.LABEL_REPEATED:
                for i, v in enumerate(value):
                    found += nonfinite_fields(v, f"{p}[{i}]")
            else:
                found += nonfinite_fields(value, p)
        elif fd.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
            values = list(value) if fd.label == FD.LABEL_REPEATED else [value]
            for i, v in enumerate(values):
                if not math.isfinite(v):
                    found.append((f"{p}[{i}]" if fd.label == FD.LABEL_REPEATED else p, v))
    return found


def plain(message):
    """A comparable plain form of a message: proto3 implicit-presence zeros dropped (so 0.0 and
    -0.0 compare equal, as they must for an unset double), map entries as dicts."""
    out = {}
    for fd, value in message.ListFields():
        if fd.type == FD.TYPE_MESSAGE:
            if fd.message_type.GetOptions().map_entry:
                vfd = fd.message_type.fields_by_name["value"]
                out[fd.name] = {k: (plain(v) if vfd.type == FD.TYPE_MESSAGE else v) for k, v in value.items()}
            elif fd.label == FD.LABEL_REPEATED:
                out[fd.name] = [plain(v) for v in value]
            else:
                out[fd.name] = plain(value)
        elif fd.label == FD.LABEL_REPEATED:
            out[fd.name] = list(value)
        else:
            if not fd.has_presence and value in (0, "", False, b""):
                continue
            out[fd.name] = value
    return out


def diff_paths(a, b, path="", limit=8):
    """Where two plain forms differ (for evidence)."""
    found = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if len(found) >= limit:
                break
            if k not in a or k not in b:
                found.append(f"{path}.{k}: {short(a.get(k, '<absent>'))} vs {short(b.get(k, '<absent>'))}")
            elif a[k] != b[k]:
                found += diff_paths(a[k], b[k], f"{path}.{k}", limit - len(found))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if len(found) >= limit:
                break
            if x != y:
                found += diff_paths(x, y, f"{path}[{i}]", limit - len(found))
    else:
        found.append(f"{path or '.'}: {short(a)} vs {short(b)}")
    return found
