"""The identity of a user callable for cache keys: its code, not only its name.

Pickling a function (what :func:`joblib.hash` does) records its module and
name only, so editing its body would leave a cache key unchanged and stale
embeddings would come back. :func:`callable_identity` hashes what decides a
callable's output instead:

- a function or lambda: its bytecode, constants, names, defaults, the values
  captured by its closure and the module globals it reads (functions among
  them recursively), plus its source text when available; where it reads an
  attribute of a user module (``settings.SIZE``), that attribute's value;
- a :func:`functools.partial`: its function, arguments and keywords;
- any other callable (a class instance, a ``torchvision`` ``Compose``): the
  code of its class's methods (for classes not from an installed package) and
  every attribute, recursively (nested transforms, their parameters, the
  functions they hold); arrays and plain values through :func:`joblib.hash`.

Modules of installed packages and of the standard library are left to the
package versions already in the key. What
cannot be hashed raises a ``ValueError`` saying so, rather than being cached
under a key that might not change when the code does.
"""

import functools
import hashlib
import inspect
import sysconfig
import types

import joblib

_MAX_DEPTH = 12


def callable_identity(function, *, parameter="preprocess"):
    """Hex digest of ``function``'s code and state; ``ValueError`` if unhashable.

    Examples
    --------
    >>> from skalign.extract._code_identity import callable_identity
    >>> def scale(x):
    ...     return 2 * x
    >>> before = callable_identity(scale)
    >>> before == callable_identity(scale)
    True
    >>> def scale(x):  # the same name, edited code
    ...     return 3 * x
    >>> before == callable_identity(scale)
    False
    """
    digest = hashlib.blake2b(digest_size=16)
    try:
        _update(digest, function, depth=0, seen=set())
    except _Unhashable as exc:
        raise ValueError(
            f"cache_dir keys the cache on the code and state of {parameter}="
            f"{_describe(function)}, but {exc}. Make what it uses picklable "
            "(module-level functions, plain values, torchvision transforms), or "
            "set cache_dir=None."
        ) from None
    return digest.hexdigest()


class _Unhashable(Exception):
    pass


def class_code_identity(cls):
    """Hex digest of the code and class attributes of ``cls`` and its user
    base classes; the same for every library class (versioned elsewhere).

    Examples
    --------
    >>> from skalign.extract._code_identity import class_code_identity
    >>> class A:
    ...     def f(self):
    ...         return 1
    >>> before = class_code_identity(A)
    >>> class A:
    ...     def f(self):
    ...         return 2
    >>> before == class_code_identity(A)
    False
    """
    digest = hashlib.blake2b(digest_size=16)
    try:
        _update_class(digest, cls, depth=0, seen=set())
    except _Unhashable:
        digest.update(b"<unpicklable class state>")
    return digest.hexdigest()


def value_identity(value):
    """Hex digest of a plain value (numbers, strings, containers, arrays,
    objects by their attributes), or None when it cannot be hashed."""
    digest = hashlib.blake2b(digest_size=16)
    try:
        _update(digest, value, depth=0, seen=set())
    except _Unhashable:
        return None
    return digest.hexdigest()


def _update(digest, obj, *, depth, seen):
    if id(obj) in seen:
        digest.update(b"<cycle>")
        return
    if depth > _MAX_DEPTH or isinstance(obj, _LEAVES):
        digest.update(_state_hash(obj).encode())
        return
    seen = seen | {id(obj)}
    if isinstance(obj, types.MethodType):
        _update(digest, obj.__func__, depth=depth, seen=seen)
        _update(digest, obj.__self__, depth=depth + 1, seen=seen)
    elif isinstance(obj, types.FunctionType):
        _update_function(digest, obj, depth=depth, seen=seen)
    elif isinstance(obj, functools.partial):
        digest.update(b"functools.partial")
        _update(digest, obj.func, depth=depth + 1, seen=seen)
        _update(digest, obj.args, depth=depth + 1, seen=seen)
        _update(digest, obj.keywords, depth=depth + 1, seen=seen)
    elif isinstance(obj, types.ModuleType | types.BuiltinFunctionType | type):
        digest.update(f"{getattr(obj, '__module__', '')}.{obj!r}".encode())
        if isinstance(obj, type):
            _update_class(digest, obj, depth=depth, seen=seen)
    elif isinstance(obj, list | tuple):
        digest.update(f"{type(obj).__qualname__}{len(obj)}".encode())
        for item in obj:
            _update(digest, item, depth=depth + 1, seen=seen)
    elif isinstance(obj, dict):
        digest.update(f"{type(obj).__qualname__}{len(obj)}".encode())
        for key, value in sorted(obj.items(), key=lambda kv: repr(kv[0])):
            digest.update(repr(key).encode())
            _update(digest, value, depth=depth + 1, seen=seen)
    elif hasattr(obj, "__dict__") and not _is_array(obj):
        # An instance (a torchvision transform, a user class): its class's
        # code and every attribute, so functions it holds are hashed by code.
        digest.update(f"{type(obj).__module__}.{type(obj).__qualname__}".encode())
        _update_class(digest, type(obj), depth=depth, seen=seen)
        _update(digest, dict(vars(obj)), depth=depth + 1, seen=seen)
    else:
        digest.update(_state_hash(obj).encode())


_LEAVES = (str, bytes, int, float, complex, bool, type(None))


def _is_array(obj):
    return hasattr(obj, "__array__") or hasattr(obj, "__dlpack__")


def _update_function(digest, function, *, depth, seen):
    code = function.__code__
    _update_code(digest, code)
    try:
        digest.update(inspect.getsource(function).encode())
    except (OSError, TypeError):
        pass
    digest.update(
        _state_hash((function.__defaults__, function.__kwdefaults__)).encode()
    )
    for cell in function.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        _update(digest, value, depth=depth + 1, seen=seen)
    namespace = function.__globals__
    names = _global_names(code)
    # attributes may be read by name too: getattr(settings, "SIZE")
    attributes = names | _identifier_constants(code)
    for name in sorted(names):
        if name in namespace:
            digest.update(name.encode())
            value = namespace[name]
            _update(digest, value, depth=depth + 1, seen=seen)
            if isinstance(value, types.ModuleType):
                _update_module_reads(
                    digest, value, attributes, depth=depth + 1, seen=seen
                )


def _update_module_reads(digest, module, names, *, depth, seen):
    """The values of the attributes among ``names`` of a user module (its
    settings, its functions), recursively through its submodules."""
    if depth > _MAX_DEPTH or id(module) in seen or _is_library(module):
        return
    seen = seen | {id(module)}
    for name in sorted(names):
        if name.startswith("__") or not hasattr(module, name):
            continue
        value = getattr(module, name)
        digest.update(f"{module.__name__}.{name}".encode())
        if isinstance(value, types.ModuleType):
            _update_module_reads(digest, value, names, depth=depth + 1, seen=seen)
        else:
            _update(digest, value, depth=depth + 1, seen=seen)


def _update_code(digest, code):
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            _update_code(digest, constant)
        else:
            digest.update(repr(constant).encode())


def _global_names(code):
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _identifier_constants(code):
    """The string constants of ``code`` (and nested code) that could name an
    attribute."""
    found = set()
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            found |= _identifier_constants(constant)
        elif isinstance(constant, str) and constant.isidentifier():
            found.add(constant)
    return found


def _update_class(digest, cls, *, depth, seen):
    """The code and class attributes of ``cls`` and of its user base classes
    (library classes are keyed by their package versions already)."""
    if depth > _MAX_DEPTH:
        return
    for klass in cls.__mro__:
        if klass is object or _is_library(inspect.getmodule(klass)):
            continue
        digest.update(klass.__qualname__.encode())
        for name, member in sorted(vars(klass).items()):
            _update_class_member(digest, name, member, depth=depth, seen=seen)


def _update_class_member(digest, name, member, *, depth, seen):
    if isinstance(member, staticmethod | classmethod):
        member = member.__func__
    if isinstance(member, types.FunctionType):
        digest.update(name.encode())
        _update_function(digest, member, depth=depth + 1, seen=seen)
    elif isinstance(member, property):
        digest.update(name.encode())
        for accessor in (member.fget, member.fset, member.fdel):
            if accessor is not None:
                _update(digest, accessor, depth=depth + 1, seen=seen)
    elif not (name.startswith("__") and name.endswith("__")) and is_setting(member):
        # a class-level setting (``SIZE = 224``) read through ``self``
        digest.update(name.encode())
        _update(digest, member, depth=depth + 1, seen=seen)


def is_setting(value):
    """Whether ``value`` looks like a setting: a number, string, bool, None,
    array, or a tuple or frozenset of them. Mutable containers and objects
    kept on a class (counters, registries, caches, locks) are state, not
    settings, and are left out of keys."""
    if isinstance(value, _LEAVES) or _is_array(value):
        return True
    if isinstance(value, tuple | frozenset):
        return all(is_setting(item) for item in value)
    return False


_STANDARD_LIBRARY = tuple(
    {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib")}
)


def _is_library(module):
    """Whether ``module`` is built in, of the standard library or of an
    installed package (not code of the user's)."""
    if module is None:
        return False  # code whose module cannot be found: exec'd, the user's
    spec = getattr(module, "__spec__", None)
    if getattr(spec, "origin", None) in ("built-in", "frozen"):
        return True
    path = getattr(module, "__file__", None)
    if path is None:
        return False  # a notebook's or REPL's __main__, a module built in code
    return (
        "site-packages" in path
        or "dist-packages" in path
        or path.startswith(_STANDARD_LIBRARY)
    )


def _state_hash(obj):
    try:
        return joblib.hash(obj)
    except Exception as exc:
        raise _Unhashable(f"{_describe(obj)} cannot be pickled ({exc})") from None


def _describe(obj):
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"<{name}>"
