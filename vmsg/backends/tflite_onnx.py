"""Translate a small float TFLite graph (MediaPipe's bundled models) into ONNX, in memory.

MediaPipe runs one image per graph call on one thread, with several copies of the image and
mask around the model. The selfie segmenter is called once per person crop and width (up to
18 times for a group photo), so that overhead, not the model, dominated the segment stage.
The same weights as an ONNX graph with a free batch axis run all crops in one onnxruntime call
on every core. Only the operators of the models we convert are handled; any other raises, so a
changed model in a future mediapipe wheel fails loudly instead of computing something else.

Layout: TFLite is NHWC, the ONNX graph NCHW throughout (one transpose at each end). fp16
weights (TFLite DEQUANTIZE of a constant) are widened at conversion time. MediaPipe's custom
`Convolution2DTransposeBias` (a transposed convolution with bias, `TfLiteTransposeConvParams`
in its custom options) becomes ConvTranspose.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from vmsg.errors import ModelError

OPSET = 17
_SAME, _VALID = 0, 1  # tflite.Padding
SUPPORTED = {"DEQUANTIZE", "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MUL", "RELU", "HARD_SWISH", "LOGISTIC",
             "AVERAGE_POOL_2D", "MEAN", "RESIZE_BILINEAR", "CUSTOM:Convolution2DTransposeBias"}
_ACTIVATIONS = {0: None, 1: "Relu"}  # tflite.ActivationFunctionType NONE, RELU (the others are not used here)


def _padding(mode: int, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]) -> list[int]:
    """ONNX pads [top, left, bottom, right] equal to TensorFlow's SAME/VALID for this input size."""
    if mode == _VALID:
        return [0, 0, 0, 0]
    begin, end = [], []
    for n, k, s in zip(size, kernel, stride):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


class _Converter:
    def __init__(self, data: bytes) -> None:
        import tflite

        self.tfl = tflite
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            raise ModelError("tflite model: only single-subgraph models are converted")
        self.graph = self.model.Subgraphs(0)
        self.names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
        self.constants: dict[int, np.ndarray] = {}
        self.nodes: list = []
        self.initializers: list = []

    def name(self, index: int) -> str:
        return f"t{index}"

    def shape(self, index: int) -> list[int]:
        return self.graph.Tensors(index).ShapeAsNumpy().tolist()

    def buffer(self, index: int) -> np.ndarray | None:
        """The constant held by tensor `index`, widened from fp16 through DEQUANTIZE (None: not a constant)."""
        if index in self.constants:
            return self.constants[index]
        tensor = self.graph.Tensors(index)
        raw = self.model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(raw, int) or raw.size == 0:
            return None
        dtype = {0: np.float32, 1: np.float16, 2: np.int32}.get(tensor.Type())
        if dtype is None:
            raise ModelError(f"tflite model: tensor {tensor.Name().decode()} has unsupported type {tensor.Type()}")
        return np.frombuffer(raw.tobytes(), dtype).reshape(tensor.ShapeAsNumpy())

    def constant(self, array: np.ndarray, hint: str) -> str:
        from onnx import numpy_helper

        name = f"c{len(self.initializers)}_{hint}"
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=f"n{len(self.nodes)}", **attrs))
        return output

    def activation(self, code: int, raw: str, output: str) -> None:
        if code not in _ACTIVATIONS:
            raise ModelError(f"tflite model: fused activation {code} is not supported")
        self.node(_ACTIVATIONS[code] or "Identity", [raw], output)

    def options(self, op, cls):
        table = op.BuiltinOptions()
        opts = cls()
        opts.Init(table.Bytes, table.Pos)
        return opts

    def kind(self, op) -> str:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        kind = self.names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")
        return "CUSTOM:" + code.CustomCode().decode() if kind == "CUSTOM" else kind

    def convert(self):
        from onnx import TensorProto, helper

        tfl, g = self.tfl, self.graph
        unknown = sorted({self.kind(g.Operators(i)) for i in range(g.OperatorsLength())} - SUPPORTED)
        if unknown:
            raise ModelError(f"tflite model: operator(s) {', '.join(unknown)} not supported by vmsg's converter")
        if g.InputsLength() != 1 or g.OutputsLength() != 1:
            raise ModelError("tflite model: one input and one output expected")
        source, sink = g.Inputs(0), g.Outputs(0)
        _, h, w, c = self.shape(source)
        self.node("Transpose", ["image"], self.name(source), perm=[0, 3, 1, 2])
        for i in range(g.OperatorsLength()):
            op = g.Operators(i)
            kind = self.kind(op)
            ins, outs = op.InputsAsNumpy().tolist(), op.OutputsAsNumpy().tolist()
            out = self.name(outs[0])
            if kind == "DEQUANTIZE":
                value = self.buffer(ins[0])
                if value is None:
                    raise ModelError("tflite model: DEQUANTIZE of a computed tensor is not supported")
                self.constants[outs[0]] = value.astype(np.float32)
            elif kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                weights, bias = self.buffer(ins[1]), self.buffer(ins[2])
                depthwise = kind == "DEPTHWISE_CONV_2D"
                opts = self.options(op, tfl.DepthwiseConv2DOptions if depthwise else tfl.Conv2DOptions)
                if opts.DilationHFactor() != 1 or opts.DilationWFactor() != 1:
                    raise ModelError("tflite model: dilated convolutions are not supported")
                if depthwise:
                    kernel = weights.transpose(3, 0, 1, 2)  # [1,H,W,C*M] -> [C*M,1,H,W]
                    group = self.shape(ins[0])[3]
                    if kernel.shape[0] != group:
                        raise ModelError("tflite model: depth multiplier > 1 is not supported")
                else:
                    kernel, group = weights.transpose(0, 3, 1, 2), 1  # [O,H,W,I] -> [O,I,H,W]
                in_h, in_w = self.shape(ins[0])[1:3]
                k = kernel.shape[2:]
                stride = (opts.StrideH(), opts.StrideW())
                raw = out + "_raw"
                self.node("Conv", [self.name(ins[0]), self.constant(kernel, "w"), self.constant(bias, "b")], raw,
                          kernel_shape=list(k), strides=list(stride), group=group,
                          pads=_padding(opts.Padding(), (in_h, in_w), k, stride))
                self.activation(opts.FusedActivationFunction(), raw, out)
            elif kind in ("ADD", "MUL"):
                opts = self.options(op, tfl.AddOptions if kind == "ADD" else tfl.MulOptions)
                operands = []
                for j in ins:
                    value = self.buffer(j)
                    if value is not None and value.ndim == 4:
                        value = value.transpose(0, 3, 1, 2)
                    operands.append(self.name(j) if value is None else self.constant(value.astype(np.float32), "k"))
                raw = out + "_raw"
                self.node("Add" if kind == "ADD" else "Mul", operands, raw)
                self.activation(opts.FusedActivationFunction(), raw, out)
            elif kind in ("RELU", "HARD_SWISH", "LOGISTIC"):
                self.node({"RELU": "Relu", "HARD_SWISH": "HardSwish", "LOGISTIC": "Sigmoid"}[kind], [self.name(ins[0])], out)
            elif kind == "AVERAGE_POOL_2D":
                opts = self.options(op, tfl.Pool2DOptions)
                in_h, in_w = self.shape(ins[0])[1:3]
                if (opts.FilterHeight(), opts.FilterWidth()) != (in_h, in_w) or opts.Padding() != _VALID:
                    raise ModelError("tflite model: only global average pooling is supported")
                raw = out + "_raw"
                self.node("GlobalAveragePool", [self.name(ins[0])], raw)
                self.activation(opts.FusedActivationFunction(), raw, out)
            elif kind == "MEAN":
                axes = sorted(int(a) % 4 for a in self.buffer(ins[1]).ravel())
                if axes != [1, 2] or not self.options(op, tfl.ReducerOptions).KeepDims():
                    raise ModelError("tflite model: only a spatial MEAN keeping its dimensions is supported")
                self.node("GlobalAveragePool", [self.name(ins[0])], out)
            elif kind == "RESIZE_BILINEAR":
                opts = self.options(op, tfl.ResizeBilinearOptions)
                mode = ("align_corners" if opts.AlignCorners() else
                        "half_pixel" if opts.HalfPixelCenters() else "asymmetric")
                size = [int(v) for v in self.buffer(ins[1])]
                in_h, in_w = self.shape(ins[0])[1:3]
                scales = np.array([1, 1, size[0] / in_h, size[1] / in_w], np.float32)
                self.node("Resize", [self.name(ins[0]), "", self.constant(scales, "s")], out,
                          mode="linear", coordinate_transformation_mode=mode)
            elif kind == "CUSTOM:Convolution2DTransposeBias":
                padding, stride_w, stride_h = struct.unpack("<iii", bytes(op.CustomOptionsAsNumpy())[:12])
                weights, bias = self.buffer(ins[1]), self.buffer(ins[2])
                kernel = weights.transpose(3, 0, 1, 2)  # [O,H,W,I] -> [I,O,H,W]
                if padding != _VALID:
                    raise ModelError("tflite model: only VALID transposed convolutions are supported")
                self.node("ConvTranspose", [self.name(ins[0]), self.constant(kernel, "w"), self.constant(bias, "b")], out,
                          kernel_shape=list(kernel.shape[2:]), strides=[stride_h, stride_w])
            else:
                raise AssertionError(kind)  # SUPPORTED lists a kind this chain does not handle
        _, oh, ow, oc = self.shape(sink)
        self.node("Transpose", [self.name(sink)], "output", perm=[0, 2, 3, 1])
        graph = helper.make_graph(
            self.nodes, "converted",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", h, w, c])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", oh, ow, oc])],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vmsg.tflite_onnx")
        model.ir_version = 8
        return model


def tflite_to_onnx(path: Path | str) -> bytes:
    """The serialised ONNX graph (input `image` NHWC float, output `output` NHWC, free batch axis)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelError(f"tflite model {path}: cannot be read ({exc.strerror})") from exc
    try:
        model = _Converter(data).convert()
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from exc
    return model.SerializeToString()
