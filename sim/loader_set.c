/* --set PATH=VALUE (apical_load_opts.sets): a value put into the YAML tree
 * before any section reads it, so it is checked exactly as if the file
 * held it. The nodes on the path are copied before they are changed: an
 * alias makes one node appear in several places, and only the place the
 * path names may change. */
#include "loader_sections.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The path up to (not including) `end`, for messages: "projections[0]",
 * or "the network file" for the root. */
static const char *path_prefix(const char *path, const char *end, char *buf, size_t len)
{
    if (end > path && end[-1] == '.')
        end--;
    if (end == path)
        return "the network file";
    snprintf(buf, len, "%.*s", (int)(end - path), path);
    return buf;
}

static apical_status set_fail(apical_ld *c, int k, apical_status code, const char *fmt, ...)
    APICAL_PRINTF_LIKE(4, 5);

static apical_status set_fail(apical_ld *c, int k, apical_status code, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return apical_error_set(c->err, code, NULL, "--set '%s': %s", c->sets[k - 1], msg);
}

/* The keys of a mapping, for "its keys: ..." */
static void key_list(const apical_ynode *map, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i + 1 < map->n_kids && used < len; i += 2) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", map->kids[i]->text);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (!map->n_kids)
        snprintf(buf, len, "(none: it is empty)");
}

/* One item, k (1-based) in c->sets. */
static apical_status apply_one(apical_ld *c, apical_ydoc *doc, int k)
{
    const char *item = c->sets[k - 1];
    const char *eq = strchr(item, '=');
    char pathbuf[1024], at[1024], b[80], list[700];
    apical_status st;
    if (!eq || eq == item)
        return set_fail(c, k, APICAL_E_INVALID,
                        "expected PATH=VALUE, e.g. populations.exc.size=100");
    if ((size_t)(eq - item) >= sizeof pathbuf)
        return set_fail(c, k, APICAL_E_INVALID, "the path is longer than %zu characters",
                        sizeof pathbuf - 1);
    snprintf(pathbuf, sizeof pathbuf, "%.*s", (int)(eq - item), item);
    const char *path = pathbuf;

    apical_ynode *value = NULL;
    apical_error verr = {0};
    if ((st = apical_ydoc_value(doc, eq + 1, k, c->stop, &value, &verr)) != APICAL_OK) {
        if (apical_exit_code(st) != 2) {
            *c->err = verr;
            return st;
        }
        if (verr.pos.col > 0)
            return set_fail(c, k, st, "the value, at its column %d: %s", verr.pos.col, verr.msg);
        return set_fail(c, k, st, "the value: %s", verr.msg);
    }

    apical_ynode *root = apical_ydoc_root(doc);
    if (!root)
        return set_fail(c, k, APICAL_E_INVALID, "the network file is empty");
    if (!(root = apical_ydoc_copy(doc, root)))
        return apical_ld_oom(c);
    apical_ydoc_set_root(doc, root);
    apical_ynode *cur = root;
    const char *p = path;
    for (;;) {
        const char *seg = p;
        const char *where = path_prefix(path, seg, at, sizeof at);
        apical_ynode **slot;
        if (*p == '[') {
            char *end;
            errno = 0;
            unsigned long long idx = strtoull(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || p[1] == '-' || p[1] == '+' || errno)
                return set_fail(c, k, APICAL_E_INVALID,
                                "'[' in a path must be followed by an item number and ']', "
                                "as in projections[0]");
            p = end + 1;
            if (cur->kind != APICAL_Y_SEQ)
                return set_fail(c, k, APICAL_E_INVALID, "%s is %s, not a list: it has no item [%llu]",
                                where, apical_ld_describe(cur, b, sizeof b), idx);
            if (idx >= cur->n_kids)
                return cur->n_kids == 0
                           ? set_fail(c, k, APICAL_E_INVALID,
                                      "%s is an empty list: it has no item [%llu]", where, idx)
                           : set_fail(c, k, APICAL_E_INVALID,
                                      "%s has %zu item%s ([0] to [%zu]): there is no item [%llu]",
                                      where, cur->n_kids, cur->n_kids == 1 ? "" : "s",
                                      cur->n_kids - 1, idx);
            slot = &cur->kids[idx];
        } else {
            size_t n = strcspn(p, ".[");
            if (n == 0)
                return set_fail(c, k, APICAL_E_INVALID,
                                "empty key in the path (keys are separated by '.', list "
                                "items written [N], as in projections[0].weight)");
            char key[512];
            snprintf(key, sizeof key, "%.*s", (int)n, p);
            p += n;
            if (cur->kind == APICAL_Y_SCALAR && cur->is_null) {
                /* "parameters:" left empty: it becomes a mapping */
                cur->kind = APICAL_Y_MAP;
                cur->is_null = 0;
            }
            if (cur->kind == APICAL_Y_SEQ && strspn(key, "0123456789") == n)
                return set_fail(c, k, APICAL_E_INVALID,
                                "%s is a list: its items are written [N], as in %.*s[%s]", where,
                                (int)(seg - path - (seg > path)), path, key);
            if (cur->kind != APICAL_Y_MAP)
                return set_fail(c, k, APICAL_E_INVALID, "%s is %s, not a mapping: it has no key '%s'",
                                where, apical_ld_describe(cur, b, sizeof b), key);
            size_t i = 0;
            while (i + 1 < cur->n_kids && strcmp(cur->kids[i]->text, key) != 0)
                i += 2;
            if (i + 1 >= cur->n_kids) {
                if (*p) {
                    key_list(cur, list, sizeof list);
                    char hint[1200] = "";
                    /* the same as one new key: "a.b.c=V" is "a={b: {c: V}}" */
                    if (!strchr(p, '[')) {
                        int depth = 0, used;
                        used = snprintf(hint, sizeof hint, "; to add it, give it whole: --set '%.*s=",
                                        (int)(p - path), path);
                        for (const char *q = p + 1; used > 0 && (size_t)used < sizeof hint && *q;
                             depth++) {
                            size_t m = strcspn(q, ".");
                            used += snprintf(hint + used, sizeof hint - (size_t)used, "{%.*s: ",
                                             (int)m, q);
                            q += m + (q[m] == '.');
                        }
                        if (used > 0 && (size_t)used < sizeof hint)
                            used += snprintf(hint + used, sizeof hint - (size_t)used, "%s", eq + 1);
                        while (depth-- > 0 && used > 0 && (size_t)used < sizeof hint)
                            used += snprintf(hint + used, sizeof hint - (size_t)used, "}");
                        if (used > 0 && (size_t)used < sizeof hint)
                            snprintf(hint + used, sizeof hint - (size_t)used, "'");
                        else
                            hint[0] = '\0';
                    }
                    return set_fail(c, k, APICAL_E_UNKNOWN_KEY,
                                    "%s has no key '%s' (only the last part of a path may be "
                                    "new); its keys: %s%s",
                                    where, key, list, hint);
                }
                /* a new key: the section's reader says whether it may be there */
                apical_ynode *kn = apical_ydoc_scalar(doc, key, k);
                if (!kn || apical_ynode_append(cur, kn) || apical_ynode_append(cur, value))
                    return apical_ld_oom(c);
                return APICAL_OK;
            }
            slot = &cur->kids[i + 1];
        }
        if (!*p) {
            *slot = value;
            return APICAL_OK;
        }
        if (*p == '.')
            p++;
        if (!*p)
            return set_fail(c, k, APICAL_E_INVALID, "the path ends with '.'");
        if (!(cur = apical_ydoc_copy(doc, *slot)))
            return apical_ld_oom(c);
        *slot = cur;
    }
}

apical_status apical_ld_apply_sets(apical_ld *c, apical_ydoc *doc)
{
    apical_status st;
    for (size_t k = 0; k < c->n_sets; k++)
        if ((st = apply_one(c, doc, (int)k + 1)) != APICAL_OK &&
            (st = apical_ld_recover(c, st)) != APICAL_OK)
            return st;
    return APICAL_OK;
}
