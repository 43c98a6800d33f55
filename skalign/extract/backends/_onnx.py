"""Backend for ONNX models run by onnxruntime (``"onnx:PATH"`` and packaged specs).

Any tensor of the graph can be the embedding: a graph output by name or index,
or an internal tensor (e.g. the penultimate dense layer of a classifier), which
is exposed by adding it to the graph outputs with the ``onnx`` package.

Images: ``preprocess`` maps each decoded PIL image to a float array in the
layout the graph expects (the batch is stacked and fed to its single input).
Texts: ``preprocess`` tokenizes a batch (list of str → dict of int64 arrays
keyed by the graph's input names).
"""

import difflib

import numpy as np

from ._base import Encoder, check_output

_ONNX_INSTALL = "pip install onnx"


def load(path, runtime, *, output=None, trust_remote_code=False):
    """The backend table's loader (see ``_backends``)."""
    return OnnxEncoder(path, output=output, device=runtime.device)


class OnnxEncoder(Encoder):
    """An onnxruntime session whose chosen output is the embedding.

    Parameters
    ----------
    model : str or bytes
        Path of the ``.onnx`` file or its serialized bytes.
    output : str, int or None, default=None
        Graph output name or index, or the name of an internal tensor; None
        uses ``default_output`` (or the first output).
    device : str, default="cpu"
        ``"cuda[:i]"`` uses onnxruntime's CUDA provider when it is installed.
    name : str, optional
        Shown in messages.
    image_preprocess, text_preprocess : callable, optional
        The model's own preprocessing (packaged models ship them).
    default_output : str or int, optional
    default_modality : {"image", "text"} or None
    """

    def __init__(
        self,
        model,
        *,
        output=None,
        device="cpu",
        name=None,
        image_preprocess=None,
        text_preprocess=None,
        default_output=None,
        default_modality=None,
    ):
        self._source = model
        self.name = name or (model if isinstance(model, str) else "ONNX model")
        self.output = default_output if output is None else output
        self.device = device
        self._image_preprocess = image_preprocess
        self._text_preprocess = text_preprocess
        self.default_modality = default_modality
        self._start_session()

    def _start_session(self):
        import onnxruntime

        model_bytes = _read_bytes(self._source)
        try:
            session = onnxruntime.InferenceSession(
                model_bytes, providers=_providers(self.device)
            )
        except Exception as exc:  # onnxruntime's own error types (InvalidProtobuf…)
            raise ValueError(
                f"Cannot load the ONNX model {self.name!r}: onnxruntime rejects it "
                f"({type(exc).__name__}: {exc}). The file is damaged, truncated or "
                "not an ONNX graph: export it again (torch.onnx.export) or pass "
                "the path of another .onnx file."
            ) from exc
        output = self.output if self.output is not None else 0
        graph_outputs = [o.name for o in session.get_outputs()]
        if isinstance(output, str) and output not in graph_outputs:
            model_bytes = _expose_tensor(model_bytes, output, self.name)
            session = onnxruntime.InferenceSession(
                model_bytes, providers=_providers(self.device)
            )
        elif not isinstance(output, str):
            if not 0 <= output < len(graph_outputs):
                raise ValueError(
                    f"output={output} is out of range: {self.name} has "
                    f"{len(graph_outputs)} outputs {graph_outputs}. Pass an index "
                    f"below {len(graph_outputs)} or a tensor name."
                )
            output = graph_outputs[output]
        self.output_name = output
        self.input_names = [i.name for i in session.get_inputs()]
        self.session = session
        if self.default_modality is None:
            self.default_modality = _modality_of_inputs(session.get_inputs())

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("session")
        state["_source"] = _read_bytes(self._source)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._start_session()

    def image_preprocessor(self):
        return self._image_preprocess

    def text_preprocessor(self):
        return self._text_preprocess

    def collate(self, items, modality):
        if modality == "image":
            return np.stack(items).astype(np.float32, copy=False)
        return list(items)

    def embed(self, batch, modality, *, pooling="auto", preprocess=None):
        if modality == "image":
            if len(self.input_names) != 1:
                raise ValueError(
                    f"{self.name} takes {len(self.input_names)} inputs "
                    f"{self.input_names}; image models must take exactly one."
                )
            feeds = {self.input_names[0]: batch}
        else:
            tokenizer = preprocess or self._text_preprocess
            feeds = self._text_feeds(tokenizer(list(batch)))
        (embeddings,) = self.session.run([self.output_name], feeds)
        return check_output(embeddings, len(batch), self.name)

    def _text_feeds(self, encoded):
        missing = [name for name in self.input_names if name not in encoded]
        if missing:
            raise ValueError(
                f"{self.name} needs the inputs {self.input_names} but the text "
                f"preprocessing produced {sorted(encoded)}; missing {missing}. "
                "Make preprocess return a dict with every model input."
            )
        return {name: np.asarray(encoded[name]) for name in self.input_names}


def _modality_of_inputs(inputs):
    """Images: one float input of rank 4; texts: integer token inputs only."""
    if len(inputs) == 1 and "float" in inputs[0].type and len(inputs[0].shape) == 4:
        return "image"
    if all("int" in i.type for i in inputs):
        return "text"
    return None


def _read_bytes(model):
    if isinstance(model, bytes):
        return model
    try:
        with open(model, "rb") as f:
            return f.read()
    except OSError as exc:
        raise FileNotFoundError(
            f"Cannot read the ONNX model {model!r}: {exc}. Pass the path of an "
            "existing .onnx file as 'onnx:PATH'."
        ) from exc


def _providers(device):
    import onnxruntime

    if device.startswith("cuda"):
        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            index = int(device.split(":")[1]) if ":" in device else 0
            return [
                ("CUDAExecutionProvider", {"device_id": index}),
                "CPUExecutionProvider",
            ]
    return ["CPUExecutionProvider"]


def _expose_tensor(model_bytes, tensor_name, model_name):
    """Return the model with internal tensor ``tensor_name`` added as an output."""
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            f"Exposing the internal tensor {tensor_name!r} of {model_name} as an "
            f"embedding needs the onnx package: `{_ONNX_INSTALL}`."
        ) from exc
    model = onnx.load_from_string(model_bytes)
    produced = [name for node in model.graph.node for name in node.output]
    if tensor_name not in produced:
        close = difflib.get_close_matches(tensor_name, produced, n=5, cutoff=0.4)
        raise ValueError(
            f"{model_name} has no tensor named {tensor_name!r}. Closest names: "
            f"{close}. List them with "
            "`[o for n in onnx.load(path).graph.node for o in n.output]`."
        )
    model.graph.output.append(onnx.ValueInfoProto(name=tensor_name))
    return model.SerializeToString()
