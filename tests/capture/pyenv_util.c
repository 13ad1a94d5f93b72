/*
 * pyenv_util.c - locating pyenv and its Python builds (pyenv_util.h).
 */
#include "pyenv_util.h"

#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int has_versions(const char *root)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/versions", root);
    return root[0] && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* `pyenv root`'s output, run through the shell's PATH lookup; NULL when
 * pyenv is not on PATH or fails. */
static char *pyenv_root_command(void)
{
    FILE *p = popen("pyenv root 2>/dev/null", "r");
    if (!p) return NULL;
    char buf[4096] = "";
    char *got = fgets(buf, sizeof buf, p);
    int st = pclose(p);
    if (!got || st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return NULL;
    buf[strcspn(buf, "\n")] = 0;
    return buf[0] ? strdup(buf) : NULL;
}

char *pt_pyenv_root(void)
{
    char *r = pyenv_root_command();
    if (r && has_versions(r)) return r;
    free(r);
    const char *env = getenv("PYENV_ROOT");
    const char *cands[] = {env ? env : "", "/root/.pyenv", "/opt/pyenv"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (has_versions(cands[i])) return strdup(cands[i]);
    return NULL;
}

char *pt_pyenv_version(const char *root, unsigned major, unsigned minor, const char *suffix)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/versions", root);
    DIR *d = opendir(p);
    if (!d) return NULL;
    char want[32];
    snprintf(want, sizeof want, "%u.%u.", major, minor);
    size_t wl = strlen(want), sl = suffix ? strlen(suffix) : 0;
    long best = -1;
    char name[256] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strncmp(n, want, wl)) continue;
        char *end;
        long micro = strtol(n + wl, &end, 10);
        if (end == n + wl || strlen(end) != sl || (sl && strcmp(end, suffix))) continue;
        if (micro > best) {
            best = micro;
            snprintf(name, sizeof name, "%s", n);
        }
    }
    closedir(d);
    if (best < 0) return NULL;
    char *r = malloc(strlen(p) + strlen(name) + 2);
    if (r) sprintf(r, "%s/%s", p, name);
    return r;
}

char *pt_pyenv_lib(const char *dir, unsigned major, unsigned minor)
{
    char pat[4096];
    snprintf(pat, sizeof pat, "%s/lib/libpython%u.%u*.so.1.0", dir, major, minor);
    glob_t g;
    char *r = NULL;
    if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0) r = strdup(g.gl_pathv[0]);
    globfree(&g);
    return r;
}

char *pt_pyenv_python(const char *dir, unsigned major, unsigned minor)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/bin/python%u.%u", dir, major, minor);
    return access(p, X_OK) == 0 ? strdup(p) : NULL;
}

unsigned pt_hex_of_dirname(const char *dir)
{
    const char *b = strrchr(dir, '/');
    b = b ? b + 1 : dir;
    unsigned a, m, u;
    int used = 0;
    if (sscanf(b, "%u.%u.%u%n", &a, &m, &u, &used) != 3 || b[used] || m > 255 || u > 255) return 0;
    return a << 24 | m << 16 | u << 8 | 0xf0;
}
