/*
 * pyenv_util.h - finds the Python builds the capture tests run against:
 * pyenv's root and its installed versions. Strings returned are malloc'd
 * and freed by the caller; NULL means "not installed here" and the caller
 * prints a "SKIP: ..." line (ct_skip) rather than passing silently.
 */
#ifndef PYENV_UTIL_H
#define PYENV_UTIL_H

/* pyenv's root, without assuming PATH: `pyenv root`, then $PYENV_ROOT,
 * then /root/.pyenv, then /opt/pyenv; the first holding a versions/
 * directory. NULL when none does. */
char *pt_pyenv_root(void);

/* The installed version directory ROOT/versions/MAJOR.MINOR.N (the
 * highest N; with `suffix` e.g. "t", MAJOR.MINOR.N<suffix>), or NULL. */
char *pt_pyenv_version(const char *root, unsigned major, unsigned minor, const char *suffix);

/* The shared library DIR/lib/libpythonMAJOR.MINOR*.so.1.0 of a version
 * directory, or NULL. */
char *pt_pyenv_lib(const char *dir, unsigned major, unsigned minor);

/* The interpreter DIR/bin/pythonMAJOR.MINOR of a version directory, or
 * NULL when it is not executable. */
char *pt_pyenv_python(const char *dir, unsigned major, unsigned minor);

/* PY_VERSION_HEX of a final release directory name "3.11.7" (its base
 * name), or 0 when the name is not of that form. */
unsigned pt_hex_of_dirname(const char *dir);

#endif
