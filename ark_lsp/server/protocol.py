"""pygls's language-server protocol, made to answer every request however malformed.

pygls 2.1.1 turns a message into its type inside ``json.loads``; when that
fails (params of the wrong shape, a string where an object goes, no
``jsonrpc``, a batch) it logs and answers nothing, so the editor waits
forever. ARK checks the envelope first and answers as JSON-RPC says: -32700
for what is not JSON, -32600 for what is not a request (batches included:
LSP has none), -32601 for an unknown method, -32602 for params that do not
fit, each with the request's id or ``null`` when it has none worth the name.
It also keeps LSP's order: -32002 before ``initialize``, -32600 for a second
``initialize`` and for requests after ``shutdown``.
"""

from __future__ import annotations

import collections.abc
import gc
import json
import logging
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future
from types import FunctionType, UnionType
from typing import Any, ForwardRef, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
)
from pygls.protocol.language_server import _prepare_command_arguments, lsp_method

from ark_lsp.server.arguments import expected_arguments, register_argument_hooks, with_defaults
from ark_lsp.server.frames import is_request_id
from ark_lsp.server.initialize_answer import AnsweredCapabilities, answering_as_json
from ark_lsp.server.lazy_protocol import pinned_versions
from ark_lsp.server.start_capabilities import SeenValid, structure_read_at_start

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_SHOWN_CHARACTERS = 300
"""How much of a client's text an error message repeats: the client chose its size."""


class _Refusal(Exception):
    """A message answered with an error instead of being handled."""

    def __init__(self, msg_id: int | str | None, code: int, message: str) -> None:
        super().__init__(message)
        self.msg_id = msg_id
        self.code = code
        self.message = message


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARACTERS else text[:_SHOWN_CHARACTERS] + "..."


def _why_not(error: Exception) -> str:
    """What did not fit in the params, in one line."""
    if isinstance(error, cattrs.BaseValidationError):
        return _cut("; ".join(cattrs.transform_error(error)))
    return _cut(f"{type(error).__name__}: {error}")


def _strictly(kind: type[_T]) -> Callable[[object, type[_T]], _T]:
    def structure(value: object, target: type[_T]) -> _T:
        if target is not kind:
            # A subclass, such as an IntEnum, reaches this hook too: build it as cattrs did.
            return target(value)  # type: ignore[call-arg]
        # JSON gives exact types; an int is a fine float, and nothing else is anything else.
        if type(value) is kind or (kind is float and type(value) is int):
            return value  # type: ignore[return-value]
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")

    return structure


def strict_converter() -> cattrs.Converter:
    """Pygls's converter, but a string is not taken for a number, nor a number for a string.

    By default cattrs calls ``str(value)`` and ``int(value)``, so ``"uri": 5`` became
    ``"5"`` and ``"line": "1"`` became ``1``: params of the wrong type are invalid params.
    """
    converter: cattrs.Converter = _with_types_resolved_on_demand(default_converter)
    for kind in (str, int, float, bool):
        converter.register_structure_hook(kind, _strictly(kind))
    register_argument_hooks(converter)
    return converter


def _with_types_resolved_on_demand(make: Callable[[], cattrs.Converter]) -> cattrs.Converter:
    """The converter ``make`` builds, each lsprotocol type's annotations resolved when first used.

    lsprotocol resolves the quoted annotations of all its 570 classes (``Optional["Range"]``)
    when a converter is first made, for cattrs: a fifth of the server's start, before it can
    read ``initialize``. A start uses a few dozen of them. Here a class is resolved just
    before cattrs first makes its hook, exactly as lsprotocol would have. The hooks
    lsprotocol keys on unions of its classes (the capabilities', the selectors' filters)
    are registered when first looked up (see :func:`_capability_hooks_on_demand`).
    """
    from lsprotocol import _hooks

    resolved: set[type] = set()
    lock = threading.Lock()

    def resolve(kind: Any) -> bool:
        if isinstance(kind, type) and kind.__module__ == types.__name__ and attrs.has(kind):
            with lock:
                if kind not in resolved:
                    # The table as locals, not globals as lsprotocol passes it: the same
                    # names resolve, and a lazily made table makes only the classes read.
                    attrs.resolve_types(kind, {}, types.ALL_TYPES_MAP)
                    resolved.add(kind)
        return False  # it only resolves: the hooks registered before it make the class

    already = _hooks._resolved_forward_references
    register_capability_hooks = _hooks._register_capabilities_hooks
    register_required_hooks = _hooks._register_required_structure_hooks
    deferred: list[cattrs.Converter] = []
    required: dict[cattrs.Converter, dict[Any, Any]] = {}
    _hooks._resolved_forward_references = True
    if pinned_versions():  # re-running lsprotocol's registration was checked with these only
        _hooks._register_capabilities_hooks = _keep(deferred)  # type: ignore[assignment]
        _hooks._register_required_structure_hooks = _unions_recorded(  # type: ignore[assignment]
            register_required_hooks, required
        )
    try:
        converter = make()
    finally:
        _hooks._resolved_forward_references = already
        _hooks._register_capabilities_hooks = register_capability_hooks
        _hooks._register_required_structure_hooks = register_required_hooks
    for made in deferred:
        _capability_hooks_on_demand(made, register_capability_hooks, required.get(made, {}))
    converter.register_structure_hook_factory(resolve, _never)
    converter.register_unstructure_hook_factory(resolve, _never)
    return converter


def _capability_hooks_on_demand(
    converter: cattrs.Converter,
    register: Callable[[cattrs.Converter], object],
    registered_after: dict[Any, Any],
) -> None:
    """The hooks lsprotocol keys on the capabilities' unions, each registered when first needed.

    ``register`` (lsprotocol's ``_register_capabilities_hooks``) keys 65 hooks on
    unions such as ``Optional[Union[bool, HoverOptions]]``: writing the keys makes
    some 80 of lsprotocol's classes, a tenth of what the server's start does
    before it can read ``initialize``, and most are options ARK never sees. Here
    ``register`` runs with stand-ins for the classes and for typing's unions, so
    each key comes out as its shape (:func:`_shape`: the classes by name), and
    then with the real ones again, for its hooks' bodies. A union's hook is put
    in the registry lsprotocol puts it in just before cattrs first looks that
    union up there, unless something was registered for it since, which wins as
    it would have. Only for the lsprotocol this was checked with
    (:data:`~ark_lsp.server.lazy_protocol.PINNED`): any other registers its hooks itself.

    ``registered_after``: the union hooks lsprotocol's required hooks registered
    after these (see :func:`_unions_recorded`), which win where both key one.
    """
    recorder = _Recorder(converter)
    _run_on_shapes(register, recorder)
    hooks = {**recorder.hooks, **registered_after}
    registry: dict[Any, Any] = converter._union_struct_registry

    def register_first(kind: Any) -> bool:
        if _is_union(kind) and kind not in registry:
            hook = hooks.get(_shape(kind))
            if hook is not None:
                registry.setdefault(kind, hook)
        return False  # it only registers: the union's hook is found where it always was

    converter.register_structure_hook_func(register_first, _never_structured)


def _run_on_shapes(register: Callable[[cattrs.Converter], object], recorder: _Recorder) -> None:
    """Run lsprotocol's ``register`` on ``recorder`` with its classes and unions as shapes.

    A class of lsprotocol's not made yet is a stand-in of its name; one made,
    or a value (an alias such as ``LSPAny``), is itself. ``attrs.fields`` of a
    stand-in reads the real class's, which it makes.
    """
    module = vars(types)
    stand_ins: dict[str, type] = {}

    class StandIns:
        def __getattr__(self, name: str) -> Any:
            if name in module:
                return module[name]
            if name not in stand_ins:
                stand_ins[name] = type(
                    name, (), {"__module__": types.__name__, "__stand_in__": True}
                )
            return stand_ins[name]

    class AttrsOfRealClasses:
        def __getattr__(self, name: str) -> Any:
            return getattr(attrs, name)

        def fields(self, kind: type) -> Any:
            return attrs.fields(_real(kind))

    names = register.__globals__
    written = {
        **names,
        "lsp_types": StandIns(),
        "Union": _UnionShape(optional=False),
        "Optional": _UnionShape(optional=True),
        "Sequence": _SequenceShape(),
        "attrs": AttrsOfRealClasses(),
    }
    FunctionType(register.__code__, written)(recorder)
    # The hooks look these names up when they run: the real ones from now on.
    written.update(
        {name: names[name] for name in ("lsp_types", "Union", "Optional", "Sequence", "attrs")}
    )


def _real(kind: Any) -> Any:
    """The definition a stand-in of :func:`_run_on_shapes` stands for, made now."""
    if (
        isinstance(kind, type)
        and kind.__module__ == types.__name__
        and kind.__dict__.get("__stand_in__", False)
    ):
        return getattr(types, kind.__name__)
    return kind


def _unions_recorded(
    register: Callable[[cattrs.Converter], cattrs.Converter],
    recorded: dict[cattrs.Converter, dict[Any, Any]],
) -> Callable[[cattrs.Converter], cattrs.Converter]:
    """The registration of lsprotocol's required hooks, those on unions kept for later.

    Its unions of filter classes (document and notebook selectors) made seven
    of lsprotocol's classes at every start. Run on shapes (:func:`_run_on_shapes`),
    each hook keyed on something else than a union is registered at once, as
    lsprotocol does; those keyed on unions are kept, by converter, for
    :func:`_capability_hooks_on_demand`.
    """

    def registering(converter: cattrs.Converter) -> cattrs.Converter:
        recorder = _Recorder(converter, unions_only=True)
        _run_on_shapes(register, recorder)
        recorded[converter] = recorder.hooks
        return converter

    return registering


def _keep(converters: list[cattrs.Converter]) -> Callable[[cattrs.Converter], cattrs.Converter]:
    """A stand-in for a registration: the converter is kept to register on, later."""

    def keep(converter: cattrs.Converter) -> cattrs.Converter:
        converters.append(converter)
        return converter

    return keep


def _never_structured(value: Any, kind: Any) -> Any:
    raise AssertionError(f"nothing is structured here, as {kind}")


def _is_union(kind: Any) -> bool:
    return get_origin(kind) in (Union, UnionType)


class _Recorder:
    """A converter as lsprotocol's hook registration sees it: the hooks are kept, not registered."""

    def __init__(self, converter: cattrs.Converter, *, unions_only: bool = False) -> None:
        self.structure = converter.structure
        self.hooks: dict[Any, Any] = {}
        self._converter = converter
        self._unions_only = unions_only

    def register_structure_hook(self, kind: Any, hook: Any) -> None:
        if self._unions_only:
            kind = _real(kind)
            if not (isinstance(kind, frozenset) or _is_union(kind)):
                self._converter.register_structure_hook(kind, hook)  # as lsprotocol does
                return
            kind = _shape(kind)
        self.hooks[kind] = hook


class _UnionShape:
    """``Union[...]`` (or ``Optional[...]``) as :func:`_shape` gives the union typing makes."""

    def __init__(self, *, optional: bool) -> None:
        self.optional = optional

    def __getitem__(self, arguments: Any) -> Any:
        arguments = arguments if isinstance(arguments, tuple) else (arguments,)
        members: set[Any] = set()
        for argument in (*arguments, *((type(None),) if self.optional else ())):
            shape = _shape(argument)
            members |= shape if isinstance(shape, frozenset) else {shape}
        return frozenset(members) if len(members) > 1 else next(iter(members))


class _SequenceShape:
    """``Sequence[...]`` as :func:`_shape` gives ``typing.Sequence[...]``."""

    def __getitem__(self, argument: Any) -> Any:
        return (collections.abc.Sequence, (_shape(argument),))


def _shape(kind: Any) -> Any:
    """A type with lsprotocol's classes as their names: the same for a class and its stand-in."""
    # A quoted name, and None, as typing takes them in Union[...] or Sequence[...].
    if isinstance(kind, str):
        return ForwardRef(kind)
    if kind is None:
        return type(None)
    if isinstance(kind, type):
        return kind.__name__ if kind.__module__ == types.__name__ else kind
    arguments = get_args(kind)
    if not arguments:
        return kind
    if _is_union(kind):
        return frozenset(_shape(argument) for argument in arguments)
    return (get_origin(kind), tuple(_shape(argument) for argument in arguments))


def _never(kind: Any) -> Any:
    raise AssertionError(f"no hook is made here for {kind}")


class ArkProtocol(LanguageServerProtocol):
    """The protocol the server runs: every request gets one response."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_received = False
        self._exited = False
        self._capabilities_lock = threading.Lock()
        self._capabilities_cut_from: dict[str, Any] | None = None
        """The whole capabilities of an ``initialize`` structured cut down, until it is over."""
        self._capabilities_unread: dict[str, Any] | None = None
        """The whole capabilities, structured when :attr:`client_capabilities` is next read."""
        # pygls's own answer as JSON, for the versions it was checked with; pygls's otherwise.
        self._answer_initialize = answering_as_json(self._converter) if pinned_versions() else None
        self._answering = False
        self._constructed = True

    @property
    def client_capabilities(self) -> types.ClientCapabilities:
        """The client's capabilities, whole (set by pygls at ``initialize``).

        During ``initialize`` they may be cut to what the start reads
        (:mod:`ark_lsp.server.start_capabilities`); the first read after it
        structures them whole.
        """
        if "_client_capabilities" not in self.__dict__:
            if "_constructed" not in self.__dict__:
                # pygls's __init__ looks at every attribute for its builtin features.
                return None  # type: ignore[return-value]
            raise AttributeError("the client's capabilities come with initialize")
        with self._capabilities_lock:
            unread, self._capabilities_unread = self._capabilities_unread, None
            if unread is not None:
                try:
                    self._client_capabilities = self._converter.structure(
                        unread, types.ClientCapabilities
                    )
                except Exception as error:  # they were valid when first seen: ARK changed since
                    logger.warning("the client's capabilities: %s", _why_not(error))
                else:
                    logger.debug("the client's capabilities structured whole, on first read")
        capabilities: types.ClientCapabilities = self._client_capabilities
        return capabilities

    @client_capabilities.setter
    def client_capabilities(self, capabilities: types.ClientCapabilities) -> None:
        with self._capabilities_lock:
            self._capabilities_unread = None
            self._client_capabilities = capabilities

    @property
    def server_capabilities(self) -> types.ServerCapabilities:
        """The capabilities answered at ``initialize``, made when first read (initialize_answer)."""
        answered = self.__dict__.get("_server_capabilities")
        if isinstance(answered, AnsweredCapabilities) and not self._answering:
            self._server_capabilities = answered.made()
        elif answered is None and "_constructed" in self.__dict__:
            raise AttributeError("the server's capabilities come with initialize")
        return self.__dict__.get("_server_capabilities")  # type: ignore[return-value]

    @server_capabilities.setter
    def server_capabilities(self, capabilities: types.ServerCapabilities) -> None:
        self._server_capabilities = capabilities

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """Answer ``initialize`` as pygls does; capabilities given cut down are whole after it."""
        self._answering = True
        try:
            answer = self._answer_initialize
            result: types.InitializeResult = yield from (
                super().lsp_initialize(params) if answer is None else answer(self, params)
            )
            return result
        finally:
            self._answering = False
            whole, self._capabilities_cut_from = self._capabilities_cut_from, None
            if whole is not None:
                with self._capabilities_lock:
                    self._capabilities_unread = whole
            if not gc.isenabled():  # ark-lsp's start paused it (cli/launch.py)
                gc.freeze()
                gc.enable()

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """Stop the server: from here on nothing more is sent, the output being closed."""
        self._exited = True
        # Python's last collection, as the interpreter ends, walks every object still alive
        # (jedi's parse trees, the protocol's types): seconds on a loaded machine, for memory
        # about to be handed back anyway. Frozen objects are left out of it.
        gc.freeze()
        yield from super().lsp_exit(*args)

    def _send_data(self, data: Any) -> None:
        # After ``exit``, work being cancelled (an index run's progress, its status) would
        # write to the closed output; pygls would report that failure with a message to the
        # client, which fails the same way, over and over until the stack runs out: seconds
        # of tracebacks before the process can end.
        if self._exited:
            logger.debug("not sent after exit: %s", getattr(data, "method", None))
            return
        super()._send_data(data)

    @property
    def shut_down(self) -> bool:
        """Whether the client asked the server to shut down."""
        return bool(self._shutdown)

    def rehearse(self, request: Any, response: Any) -> None:
        """Convert a request and a response once, as if received and sent, and drop them.

        The converter makes its hooks for a message type the first time it
        meets one (milliseconds each); rehearsed at start-up, the first real
        request of that kind finds them made.
        """
        self._converter.structure(self._converter.unstructure(request), type(request))
        self._converter.unstructure(response)

    def reply_error(self, msg_id: int | str | None, code: int, message: str) -> None:
        """Send an error response; ``msg_id`` ``None`` is JSON-RPC's ``"id": null``."""
        # Built by hand: pygls's types leave out an id that is None, and JSON-RPC wants null.
        error = {"code": code, "message": message}
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": error})

    def refuse_unreadable(self, reason: str) -> None:
        """Answer bytes that could not be read as a message."""
        self.reply_error(None, types.ErrorCodes.ParseError, f"Parse error: {reason}")

    def receive(self, body: bytes) -> None:
        """Handle one message body as read off the stream."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as error:
            logger.warning("a message is not JSON: %s", _cut(str(error)))
            self.refuse_unreadable(f"the message is not JSON: {_cut(str(error))}")
            return
        try:
            message = self._structure(data)
        except _Refusal as refusal:
            logger.warning("refused a message: %s", refusal.message)
            self.reply_error(refusal.msg_id, refusal.code, refusal.message)
            return
        if message is not None:
            self.handle_message(message)

    def _structure(self, data: object) -> Any:
        """The typed message pygls handles, ``None`` to drop it; raises ``_Refusal``."""
        if isinstance(data, list):
            self._refuse_batch(data)
            return None
        if not isinstance(data, dict):
            raise _Refusal(None, types.ErrorCodes.InvalidRequest, "a message must be an object")
        msg_id = data.get("id")
        reply_to = msg_id if is_request_id(msg_id) else None
        if data.get("jsonrpc") != self.VERSION:
            raise _Refusal(
                reply_to, types.ErrorCodes.InvalidRequest, 'a message must carry "jsonrpc": "2.0"'
            )
        if "method" in data:
            method = data["method"]
            if not isinstance(method, str):
                raise _Refusal(reply_to, types.ErrorCodes.InvalidRequest, "method is not a string")
            if "id" not in data:
                return self._notification(method, data)
            if reply_to is None:
                raise _Refusal(
                    None,
                    types.ErrorCodes.InvalidRequest,
                    "a request id must be an integer or string",
                )
            return self._request(reply_to, method, data)
        if "result" in data or "error" in data:
            return self._response(data)
        raise _Refusal(
            reply_to,
            types.ErrorCodes.InvalidRequest,
            "a message must have a method (request) or a result or error (response)",
        )

    def _refuse_batch(self, batch: list[Any]) -> None:
        """LSP has no batches: each request in one gets an error, or the batch gets one."""
        ids = [
            m["id"]
            for m in batch
            if isinstance(m, dict) and "method" in m and is_request_id(m.get("id"))
        ]
        logger.warning("refused a batch of %d messages", len(batch))
        for msg_id in dict.fromkeys(ids) or [None]:
            self.reply_error(
                msg_id,
                types.ErrorCodes.InvalidRequest,
                "LSP has no batches: send each message on its own",
            )

    def _request(self, msg_id: int | str, method: str, data: dict[str, Any]) -> Any:
        if self._shutdown:
            raise _Refusal(msg_id, types.ErrorCodes.InvalidRequest, "the server is shutting down")
        if method == types.INITIALIZE and self._initialize_received:
            raise _Refusal(
                msg_id, types.ErrorCodes.InvalidRequest, "initialize may only be sent once"
            )
        if method != types.INITIALIZE and not self._initialize_received:
            raise _Refusal(
                msg_id, types.ErrorCodes.ServerNotInitialized, "the server is not initialized yet"
            )
        if method not in self.fm.builtin_features and method not in self.fm.features:
            raise _Refusal(
                msg_id, types.ErrorCodes.MethodNotFound, f"Method not found: {_cut(method)}"
            )
        if data.get("params") is not None and not isinstance(data["params"], dict | list):
            raise _Refusal(
                msg_id, types.ErrorCodes.InvalidParams, "params must be an object or an array"
            )
        try:
            if method == types.INITIALIZE:
                message = self._structure_initialize(data)
            else:
                message = self._converter.structure(
                    data, self.get_message_type(method) or JsonRPCRequestMessage
                )
        except Exception as error:
            raise _Refusal(
                msg_id, types.ErrorCodes.InvalidParams, f"Invalid params: {_why_not(error)}"
            ) from None
        if method == types.INITIALIZE:
            self._initialize_received = True
        return message

    def _structure_initialize(self, data: dict[str, Any]) -> Any:
        """The ``initialize`` request, its capabilities cut to what the start reads if it may.

        The cut is taken for capabilities once structured whole without error,
        so params that do not fit are still refused (see
        :mod:`ark_lsp.server.start_capabilities`).
        """
        # Not METHOD_TO_TYPES's entry: made whole, its response class would make
        # ServerCapabilities (see initialize_answer).
        kind = types.InitializeRequest
        params = data.get("params")
        capabilities = params.get("capabilities") if isinstance(params, dict) else None
        seen = SeenValid.in_user_cache() if isinstance(capabilities, dict) else None
        if seen is None or not isinstance(params, dict) or not isinstance(capabilities, dict):
            return self._converter.structure(data, kind)
        digest = seen.digest(capabilities)
        if digest not in seen:
            message = self._converter.structure(data, kind)
            seen.add(digest)
            return message
        message = self._converter.structure(
            {**data, "params": {**params, "capabilities": {}}}, kind
        )
        try:
            message.params.capabilities = structure_read_at_start(self._converter, capabilities)
        except Exception:  # capabilities that were valid: the cut is what failed, not the client
            logger.exception("the client's capabilities could not be cut: read whole")
            return self._converter.structure(data, kind)
        self._capabilities_cut_from = capabilities
        return message

    def _notification(self, method: str, data: dict[str, Any]) -> Any:
        """A notification cannot be answered: one that is wrong is dropped, with a log line."""
        if method != types.EXIT and not self._initialize_received:
            logger.warning("dropped %s: the server is not initialized yet", _cut(method))
            return None
        try:
            return self._converter.structure(
                data, self.get_message_type(method) or JsonRPCNotification
            )
        except Exception as error:
            logger.warning("dropped %s with invalid params: %s", _cut(method), _why_not(error))
            return None

    def _response(self, data: dict[str, Any]) -> Any:
        """The client's answer to a request of ours; one we cannot read fails that request."""
        msg_id = data.get("id")
        if not is_request_id(msg_id) and not (msg_id is None and "error" in data):
            # Only an error may lack an id: the client could not read our request's.
            logger.warning("dropped a response with the id %s", _cut(repr(msg_id)))
            return None
        expected = self._result_types.pop(msg_id, None) if is_request_id(msg_id) else None
        try:
            if "error" in data:
                return self._converter.structure(data, types.ResponseErrorMessage)
            return self._converter.structure(data, expected or JsonRPCResponseMessage)
        except Exception as error:
            logger.warning("the client's response to %r is malformed: %s", msg_id, _why_not(error))
            if is_request_id(msg_id):
                reason = types.ResponseError(
                    code=types.ErrorCodes.InvalidParams,
                    message=f"the client's response is malformed: {_why_not(error)}",
                )
                self._handle_response(msg_id, None, reason)
            return None

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        """Run a command with its arguments structured by pygls from the handler's annotations.

        Two things pygls leaves out: an optional trailing argument may be
        left out, and arguments that do not fit say what the command takes.
        """
        handler = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams.of(
                ValueError(f"Command name {_cut(repr(params.command))} is not defined")
            )
        params = attrs.evolve(
            params, arguments=with_defaults(handler, list(params.arguments or []))
        )
        try:
            args, kwargs = _prepare_command_arguments(handler, params, self._converter)
        except Exception as error:
            raise JsonRpcInvalidParams(
                message=f"{params.command}: expected {expected_arguments(handler)}; "
                f"{_why_not(error)}"
            ) from None
        return (yield handler, args, kwargs)

    def _send_response(
        self,
        msg_id: int | str,
        result: Any | None = None,
        error: types.ResponseError | None = None,
    ) -> None:
        # pygls serializes while writing and only logs a failure: the request would go
        # unanswered. Serialize first, and answer an internal error if that fails.
        if error is not None:
            super()._send_response(msg_id, error=error)
            return
        response_type = self._result_types.pop(msg_id, JsonRPCResponseMessage)
        try:
            response = self._converter.unstructure(
                response_type(id=msg_id, result=result, jsonrpc=self.VERSION)
            )
        except Exception:
            logger.exception("the answer to request %r could not be serialized", msg_id)
            self.reply_error(
                msg_id, types.ErrorCodes.InternalError, "the server could not serialize its answer"
            )
            return
        self._send_data(response)

    def _send_handler_result(self, future: Future[Any], *, msg_id: int | str) -> None:
        # An error the handler raised on purpose (bad arguments to a command, an unknown
        # command) is the client's, not a bug: answer it in one log line, not a traceback.
        error = None if future.cancelled() else future.exception()
        if isinstance(error, JsonRpcException):
            self._request_futures.pop(msg_id, None)
            logger.warning("request %r: %s", msg_id, error.message)
            self._send_response(msg_id, error=error.to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)
