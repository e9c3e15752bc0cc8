/*
 * consentkit.audit._treehash: the hashing of audit verification's fast path, in C.
 *
 * Verification rebuilds the RFC 9162 Merkle tree of the whole log: one SHA-256 per entry
 * (the leaf) and one per node above it. In Python each hash costs a few method calls more
 * than the hashing itself; here a whole chunk of entries is hashed per call, through
 * OpenSSL's EVP interface (the same SHA-256 that hashlib and cryptography use).
 *
 * The module is optional: `consentkit.audit.verify` computes the very same bytes with
 * hashlib when it is not built (no C compiler or OpenSSL headers at install time).
 * It reads only the bytes it is given and writes only the result it allocates.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>

#define DIGEST 32 /* SHA-256 */

static EVP_MD *sha256; /* fetched once, at import */

static PyObject *
digest_failed(EVP_MD_CTX *ctx, PyObject *out)
{
    EVP_MD_CTX_free(ctx);
    Py_XDECREF(out);
    PyErr_SetString(PyExc_RuntimeError, "SHA-256 failed in OpenSSL");
    return NULL;
}

/* The result (count digests, uninitialised) and a digest context, or -1 with an exception set. */
static int
start(Py_ssize_t count, PyObject **out, EVP_MD_CTX **ctx)
{
    *out = PyBytes_FromStringAndSize(NULL, count * DIGEST);
    if (*out == NULL)
        return -1;
    *ctx = EVP_MD_CTX_new();
    if (*ctx == NULL) {
        Py_CLEAR(*out);
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(leaf_hashes_doc,
"leaf_hashes(prefix, entries, /)\n--\n\n"
"SHA-256(prefix || entry) of every entry (a list of bytes), concatenated: 32 bytes each.");

static PyObject *
leaf_hashes(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer prefix;
    PyObject *entries, *out = NULL;
    EVP_MD_CTX *ctx;
    unsigned char *digest;
    Py_ssize_t count, i;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "leaf_hashes takes a prefix and a list of entries");
        return NULL;
    }
    if (!PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "leaf_hashes: entries must be a list of bytes");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &prefix, PyBUF_SIMPLE) < 0)
        return NULL;
    entries = args[1];
    count = PyList_GET_SIZE(entries);
    for (i = 0; i < count; i++) {
        if (!PyBytes_Check(PyList_GET_ITEM(entries, i))) {
            PyBuffer_Release(&prefix);
            PyErr_SetString(PyExc_TypeError, "leaf_hashes: entries must be a list of bytes");
            return NULL;
        }
    }
    if (count > PY_SSIZE_T_MAX / DIGEST) {
        PyBuffer_Release(&prefix);
        return PyErr_NoMemory();
    }
    if (start(count, &out, &ctx) < 0) {
        PyBuffer_Release(&prefix);
        return NULL;
    }
    digest = (unsigned char *)PyBytes_AS_STRING(out);
    /* Nothing below calls back into Python, so the list cannot change under the loop. */
    for (i = 0; i < count; i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        if (!EVP_DigestInit_ex2(ctx, sha256, NULL)
            || !EVP_DigestUpdate(ctx, prefix.buf, (size_t)prefix.len)
            || !EVP_DigestUpdate(ctx, PyBytes_AS_STRING(entry), (size_t)PyBytes_GET_SIZE(entry))
            || !EVP_DigestFinal_ex(ctx, digest + i * DIGEST, NULL)) {
            PyBuffer_Release(&prefix);
            return digest_failed(ctx, out);
        }
    }
    PyBuffer_Release(&prefix);
    EVP_MD_CTX_free(ctx);
    return out;
}

PyDoc_STRVAR(node_hashes_doc,
"node_hashes(level, /)\n--\n\n"
"The level above `level` (32-byte hashes, concatenated): SHA-256(0x01 || left || right) of\n"
"each consecutive pair. An odd hash at the end has no pair and is left out.");

static PyObject *
node_hashes(PyObject *Py_UNUSED(module), PyObject *level_object)
{
    static const unsigned char node_prefix = 0x01;
    Py_buffer level;
    PyObject *out;
    EVP_MD_CTX *ctx;
    const unsigned char *pairs;
    unsigned char *digest;
    Py_ssize_t count, i;

    if (PyObject_GetBuffer(level_object, &level, PyBUF_SIMPLE) < 0)
        return NULL;
    if (level.len % DIGEST) {
        PyBuffer_Release(&level);
        PyErr_SetString(PyExc_ValueError, "node_hashes: the level must be whole 32-byte hashes");
        return NULL;
    }
    count = level.len / (2 * DIGEST);
    if (start(count, &out, &ctx) < 0) {
        PyBuffer_Release(&level);
        return NULL;
    }
    pairs = (const unsigned char *)level.buf;
    digest = (unsigned char *)PyBytes_AS_STRING(out);
    for (i = 0; i < count; i++) {
        if (!EVP_DigestInit_ex2(ctx, sha256, NULL)
            || !EVP_DigestUpdate(ctx, &node_prefix, 1)
            || !EVP_DigestUpdate(ctx, pairs + i * 2 * DIGEST, 2 * DIGEST)
            || !EVP_DigestFinal_ex(ctx, digest + i * DIGEST, NULL)) {
            PyBuffer_Release(&level);
            return digest_failed(ctx, out);
        }
    }
    PyBuffer_Release(&level);
    EVP_MD_CTX_free(ctx);
    return out;
}

static PyMethodDef methods[] = {
    {"leaf_hashes", (PyCFunction)(void (*)(void))leaf_hashes, METH_FASTCALL, leaf_hashes_doc},
    {"node_hashes", node_hashes, METH_O, node_hashes_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "consentkit.audit._treehash",
    "RFC 9162 leaf and node hashes for many entries per call (audit verification's fast path).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__treehash(void)
{
    if (sha256 == NULL) {
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (sha256 == NULL) {
            PyErr_SetString(PyExc_ImportError, "OpenSSL has no SHA-256 available");
            return NULL;
        }
    }
    return PyModule_Create(&module_def);
}
