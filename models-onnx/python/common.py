"""Shared helpers: seeds, training schedule, ONNX export with checks, manifests and fixtures as JSON."""
import json
import math
import os
import random
import re
import time

import numpy as np
import onnx
import torch

OPSET = 17
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # models-onnx/
FIXTURES = os.path.join(ROOT, "fixtures")
DATA = os.path.join(ROOT, "data")
THREADS = int(os.environ.get("TORCH_THREADS", "2"))

ONNX_TYPES = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32",
              torch.int64: "int64", torch.bool: "bool"}


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)


class Timer:
    """Wall time, and CPU time of this process (all threads): on a machine shared with other work the wall
    time grows, the CPU time much less."""

    def __init__(self):
        self.t0 = time.time()
        self.c0 = time.process_time()

    def seconds(self):
        return round(time.time() - self.t0, 1)

    def cpu_seconds(self):
        return round(time.process_time() - self.c0, 1)


def cosine_lr(step, total, warmup, peak):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


# ----------------------------------------------------------------------------- JSON

def dumps(obj):
    """JSON with indentation for the structure and each flat array of scalars on one line."""
    text = json.dumps(obj, indent=1, ensure_ascii=False)
    return re.sub(r"\[\s*([^\[\]{}\"]*?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",") if x.strip()) + "]",
                  text) + "\n"


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(dumps(obj))


def f32(v):
    """A float32 value as the shortest decimal that round-trips it (a Python float)."""
    return float(repr(np.float32(v)).replace("np.float32(", "").rstrip(")"))


def tensor_json(t):
    """{"dtype", "shape", "data" (flat, row-major)}; the fixture format of the C# tests."""
    t = t.detach().cpu().contiguous()
    dtype = ONNX_TYPES[t.dtype]
    flat = t.numpy().reshape(-1)
    if dtype == "float32":
        data = [f32(v) for v in flat]
    elif dtype == "float64":
        data = [float(v) for v in flat]
    elif dtype == "bool":
        data = [bool(v) for v in flat]
    else:
        data = [int(v) for v in flat]
    return {"dtype": dtype, "shape": list(t.shape), "data": data}


# ----------------------------------------------------------------------------- export

def export_onnx(model, args, path, input_names, output_names, dynamic_axes):
    """Exports at opset 17 under no_grad, types every graph output with its concrete non-dynamic sizes
    (the exporter leaves some symbolic, e.g. after an L2 normalization), and runs the full checker.
    Returns the PyTorch outputs for args and a description of the graph's inputs/outputs."""
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
        outs = model(*args)
    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
    m = onnx.load(path)
    assert [o.name for o in m.graph.output] == list(output_names)
    assert [i.name for i in m.graph.input] == list(input_names), [i.name for i in m.graph.input]
    for go, t in zip(m.graph.output, outs):
        dims = go.type.tensor_type.shape.dim
        assert len(dims) == t.dim(), (go.name, len(dims), t.dim())
        for ax, dim in enumerate(dims):
            want = dynamic_axes.get(go.name, {}).get(ax)
            dim.Clear()
            if want is not None:
                dim.dim_param = want
            else:
                dim.dim_value = int(t.shape[ax])
    m.producer_name = "MlNotes models-onnx (torch %s)" % torch.__version__
    onnx.save(m, path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return outs, graph_signature(path)


def graph_signature(path):
    m = onnx.load(path)

    def desc(v):
        return {"name": v.name,
                "dtype": ONNX_ELEM.get(v.type.tensor_type.elem_type, str(v.type.tensor_type.elem_type)),
                "shape": [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]}

    return {"inputs": [desc(v) for v in m.graph.input], "outputs": [desc(v) for v in m.graph.output]}


ONNX_ELEM = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.DOUBLE: "float64",
             onnx.TensorProto.INT32: "int32", onnx.TensorProto.INT64: "int64", onnx.TensorProto.BOOL: "bool"}


def tensor_specs(signature, dynamic_axes):
    """Manifest "inputs"/"outputs" lists: name, element type, shape (-1 for a dynamic axis) and dynamic axes."""
    def spec(d):
        axes = {str(ax): name for ax, name in sorted(dynamic_axes.get(d["name"], {}).items())}
        return {"name": d["name"], "dtype": d["dtype"],
                "shape": [-1 if isinstance(s, str) else s for s in d["shape"]],
                "dynamic_axes": axes}
    return [spec(d) for d in signature["inputs"]], [spec(d) for d in signature["outputs"]]


def fixture(input_names, inputs, output_names, outputs, **extra):
    fx = {"inputs": {n: tensor_json(a) for n, a in zip(input_names, inputs)},
          "outputs": {n: tensor_json(o) for n, o in zip(output_names, outputs)}}
    fx.update(extra)
    return fx


IMAGE_PREPROCESSING_KEYS = ("width", "height", "channels", "resize", "crop", "scale", "mean", "std", "layout")
