/* Diagnostics: formats `file:line:col: error: message [code]`, the source
 * line, a caret underline and a fix-it line, in gcc's colours when asked;
 * caps the errors per run; keeps items for the JSON/SARIF reports. */
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "diag.h"

static const char *const warning_names[] = {
#define VDEVC_W_NAME(id, name, help) name,
    VDEVC_WARNINGS(VDEVC_W_NAME)
#undef VDEVC_W_NAME
};

static const char *const warning_helps[] = {
#define VDEVC_W_HELP(id, name, help) help,
    VDEVC_WARNINGS(VDEVC_W_HELP)
#undef VDEVC_W_HELP
};

const char *
vdevc_warning_name(enum vdevc_warning w)
{
    return warning_names[w];
}

const char *
vdevc_warning_help(enum vdevc_warning w)
{
    return warning_helps[w];
}

#define ALL_WARNINGS ((uint32_t)((UINT64_C(1) << VDEVC_NR_WARNINGS) - 1))

void
vdevc_diag_opts_init(struct vdevc_diag_opts *o)
{
    *o = (struct vdevc_diag_opts){
        .format = VDEVC_DIAG_TEXT,
        .enabled = ALL_WARNINGS,
    };
}

static int
warning_by_name(const char *name)
{
    for (unsigned i = 0; i < VDEVC_NR_WARNINGS; i++)
        if (strcmp(warning_names[i], name) == 0)
            return (int)i;
    return -1;
}

int
vdevc_diag_opts_flag(struct vdevc_diag_opts *o, const char *flag)
{
    if (strcmp(flag, "all") == 0 || strcmp(flag, "extra") == 0) {
        o->enabled = ALL_WARNINGS;
        return 0;
    }
    if (strcmp(flag, "error") == 0) {
        o->werror = ALL_WARNINGS;
        return 0;
    }
    if (strcmp(flag, "no-error") == 0) {
        o->werror = 0;
        return 0;
    }
    bool no = strncmp(flag, "no-", 3) == 0;
    const char *name = no ? flag + 3 : flag;
    bool err = strncmp(name, "error=", 6) == 0;
    int w = warning_by_name(err ? name + 6 : name);
    if (w < 0)
        return -EINVAL;
    uint32_t bit = UINT32_C(1) << w;
    if (err && no) {
        o->werror &= ~bit;
    } else if (err) {
        o->werror |= bit;
        o->enabled |= bit;
    } else if (no) {
        o->enabled &= ~bit;
    } else {
        o->enabled |= bit;
    }
    return 0;
}

static const struct vdevc_diag_opts default_opts = {
    .format = VDEVC_DIAG_TEXT,
    .enabled = ALL_WARNINGS,
};

struct vdevc_diag *
vdevc_diag_new(void *mem_ctx, const char *file, const char *src, size_t len,
               FILE *out)
{
    struct vdevc_diag *d = talloc_zero(mem_ctx, struct vdevc_diag);
    if (!d)
        return NULL;
    d->file = talloc_strdup(d, file);
    d->src = src;
    d->src_len = len;
    d->max_errors = VDEVC_MAX_ERRORS;
    d->out = out;
    d->text = talloc_strdup(d, "");
    d->opts = &default_opts;
    return d;
}

/* ------------------------------------------------------------ text */

/* gcc's palette (GCC_COLORS defaults). */
#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_ERROR "\033[1;31m"
#define C_WARNING "\033[1;35m"
#define C_NOTE "\033[1;36m"
#define C_HELP "\033[1;32m"
#define C_CARET "\033[1;32m"
#define C_FIXIT "\033[32m"

static const char *const sev_names[] = {
    [VDEVC_SEV_ERROR] = "error",
    [VDEVC_SEV_WARNING] = "warning",
    [VDEVC_SEV_NOTE] = "note",
    [VDEVC_SEV_HELP] = "help",
};

static const char *const sev_colors[] = {
    [VDEVC_SEV_ERROR] = C_ERROR,
    [VDEVC_SEV_WARNING] = C_WARNING,
    [VDEVC_SEV_NOTE] = C_NOTE,
    [VDEVC_SEV_HELP] = C_HELP,
};

static bool
text_format(const struct vdevc_diag *d)
{
    return d->opts->format == VDEVC_DIAG_TEXT;
}

/* Colour on/off around s. */
static const char *
on(const struct vdevc_diag *d, const char *c)
{
    return d->opts->color ? c : "";
}

static const char *
off(const struct vdevc_diag *d)
{
    return d->opts->color ? C_RESET : "";
}

/* Printed, or (no stream: tests, the fuzzer) kept in d->text. */
static void
emit(struct vdevc_diag *d, const char *s)
{
    if (!text_format(d))
        return;
    if (d->out)
        fputs(s, d->out);
    else
        d->text = talloc_strdup_append(d->text, s);
}

static void
index_lines(struct vdevc_diag *d)
{
    unsigned n = 1;
    for (size_t i = 0; i < d->src_len; i++)
        if (d->src[i] == '\n')
            n++;
    d->lines = talloc_array(d, const char *, n);
    d->lines[0] = d->src;
    n = 1;
    for (size_t i = 0; i < d->src_len; i++)
        if (d->src[i] == '\n')
            d->lines[n++] = d->src + i + 1;
    d->nr_lines = n;
}

/* The source line, unprintable bytes shown as '?', a caret underline
 * from first_column to last_column (one caret for multi-line spans) and,
 * when there is a fix, the replacement text under it. */
static void
show_line(struct vdevc_diag *d, struct vdevc_loc loc, const char *fix)
{
    if (!d->src)
        return;
    if (!d->lines)
        index_lines(d);
    if (loc.first_line < 1 || (unsigned)loc.first_line > d->nr_lines)
        return;
    const char *p = d->lines[loc.first_line - 1];
    const char *end = d->src + d->src_len;
    size_t len = 0;
    while (p + len < end && p[len] != '\n')
        len++;
    if (len > 200)
        len = 200;
    char *line = talloc_array(d, char, len + 1);
    char *pad = talloc_array(d, char, len + 2);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        line[i] = (c == '\t' || (c >= 0x20 && c < 0x7f)) ? (char)c : '?';
    }
    line[len] = '\0';
    size_t first = loc.first_column > 0 ? (size_t)loc.first_column - 1 : 0;
    size_t last = first + 1;
    if (loc.last_line == loc.first_line && loc.last_column > loc.first_column)
        last = (size_t)loc.last_column - 1;
    if (first > len)
        first = len;
    if (last > len + 1)
        last = len + 1;
    if (last <= first)
        last = first + 1;
    size_t k = 0;
    for (size_t i = 0; i < first; i++)
        pad[k++] = line[i] == '\t' ? '\t' : ' ';
    pad[k] = '\0';
    char *caret = talloc_strdup(d, "^");
    for (size_t i = first + 1; i < last; i++)
        caret = talloc_strdup_append(caret, "~");
    char *s = talloc_asprintf(d, "%5d | %s\n      | %s%s%s%s\n", loc.first_line,
                              line, pad, on(d, C_CARET), caret, off(d));
    if (fix)
        s = talloc_asprintf_append(s, "      | %s%s%s%s\n", pad, on(d, C_FIXIT),
                                   fix, off(d));
    emit(d, s);
    talloc_free(s);
    talloc_free(caret);
    talloc_free(line);
    talloc_free(pad);
}

static bool
has_loc(struct vdevc_loc loc)
{
    return loc.first_line > 0;
}

static void
print_item(struct vdevc_diag *d, const struct vdevc_diag_item *it)
{
    char *s;
    if (it->sev == VDEVC_SEV_HELP) {
        s = talloc_asprintf(d, "  %shelp:%s %s\n", on(d, C_HELP), off(d),
                            it->msg);
        emit(d, s);
        talloc_free(s);
        return;
    }
    const char *color = sev_colors[it->sev];
    if (has_loc(it->loc))
        s = talloc_asprintf(d, "%s%s:%d:%d:%s ", on(d, C_BOLD), d->file,
                            it->loc.first_line, it->loc.first_column, off(d));
    else
        s = talloc_asprintf(d, "%s%s:%s ", on(d, C_BOLD), d->file, off(d));
    s = talloc_asprintf_append(s, "%s%s:%s %s", on(d, color),
                               sev_names[it->sev], off(d), it->msg);
    const char *tag = it->option ? it->option : it->code;
    if (tag)
        s = talloc_asprintf_append(s, " [%s%s%s]", on(d, color), tag, off(d));
    s = talloc_strdup_append(s, "\n");
    emit(d, s);
    talloc_free(s);
    if (has_loc(it->loc))
        show_line(d, it->loc, it->fix);
}

/* ------------------------------------------------------------ reporting */

static struct vdevc_diag_item *
item_new(struct vdevc_diag *d, enum vdevc_severity sev, struct vdevc_loc loc,
         const char *code, const char *fmt, va_list ap)
{
    struct vdevc_diag_item *it = talloc_zero(d, struct vdevc_diag_item);
    it->sev = sev;
    it->loc = loc;
    it->code = code;
    it->msg = talloc_vasprintf(it, fmt, ap);
    return it;
}

/* Prints (text) or keeps (JSON/SARIF) a top-level diagnostic. */
static void
report(struct vdevc_diag *d, struct vdevc_diag_item *it)
{
    if (text_format(d)) {
        print_item(d, it);
        talloc_free(d->last);
        d->last = it;
        return;
    }
    vdevc_vec_push(d, &d->items, it);
    d->last = it;
}

/* Counts an error; false when past the cap (then nothing is shown). */
static bool
count_error(struct vdevc_diag *d)
{
    d->errors++;
    d->last_suppressed = d->errors > d->max_errors;
    if (d->errors == d->max_errors + 1) {
        char *s = talloc_asprintf(d,
                                  "%s: too many errors (limit %u), "
                                  "stopping\n",
                                  d->file, d->max_errors);
        emit(d, s);
        talloc_free(s);
    }
    return !d->last_suppressed;
}

void
vdevc_verror(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
             const char *fmt, va_list ap)
{
    if (!count_error(d))
        return;
    report(d, item_new(d, VDEVC_SEV_ERROR, loc, code, fmt, ap));
}

void
vdevc_error(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdevc_verror(d, loc, code, fmt, ap);
    va_end(ap);
}

static void
verror_fix(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
           const char *fix, const char *fmt, va_list ap)
{
    if (!count_error(d))
        return;
    struct vdevc_diag_item *it =
        item_new(d, VDEVC_SEV_ERROR, loc, code, fmt, ap);
    if (fix)
        it->fix = talloc_strdup(it, fix);
    report(d, it);
}

void
vdevc_error_fix(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
                const char *fix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_fix(d, loc, code, fix, fmt, ap);
    va_end(ap);
}

void
vdevc_error_unknown(struct vdevc_diag *d, struct vdevc_loc loc,
                    const char *code, const char *best, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_fix(d, loc, code, best, fmt, ap);
    va_end(ap);
    if (best)
        vdevc_help(d, "did you mean '%s'?", best);
}

bool
vdevc_warning_enabled(const struct vdevc_diag *d, enum vdevc_warning w)
{
    return d->opts->enabled & (UINT32_C(1) << w);
}

bool
vdevc_vwarning(struct vdevc_diag *d, struct vdevc_loc loc, enum vdevc_warning w,
               const char *fmt, va_list ap)
{
    uint32_t bit = UINT32_C(1) << w;
    if (!(d->opts->enabled & bit)) {
        d->last_suppressed = true;
        return false;
    }
    bool as_error = d->opts->werror & bit;
    d->werrors += as_error;
    if (as_error && !count_error(d))
        return false;
    if (!as_error) {
        d->warnings++;
        d->last_suppressed = false;
    }
    struct vdevc_diag_item *it =
        item_new(d, as_error ? VDEVC_SEV_ERROR : VDEVC_SEV_WARNING, loc,
                 warning_names[w], fmt, ap);
    it->option = talloc_asprintf(it, "-W%s%s", as_error ? "error=" : "",
                                 warning_names[w]);
    report(d, it);
    return true;
}

bool
vdevc_warning(struct vdevc_diag *d, struct vdevc_loc loc, enum vdevc_warning w,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool r = vdevc_vwarning(d, loc, w, fmt, ap);
    va_end(ap);
    return r;
}

/* Notes and help belong to the diagnostic before them. */
static void
attach(struct vdevc_diag *d, struct vdevc_diag_item *it)
{
    if (text_format(d) || !d->last) {
        print_item(d, it);
        talloc_free(it);
        return;
    }
    talloc_steal(d->last, it);
    vdevc_vec_push(d->last, &d->last->children, it);
}

void
vdevc_note(struct vdevc_diag *d, struct vdevc_loc loc, const char *fmt, ...)
{
    if (d->last_suppressed)
        return;
    va_list ap;
    va_start(ap, fmt);
    attach(d, item_new(d, VDEVC_SEV_NOTE, loc, NULL, fmt, ap));
    va_end(ap);
}

void
vdevc_help(struct vdevc_diag *d, const char *fmt, ...)
{
    if (d->last_suppressed)
        return;
    struct vdevc_loc none = {0, 0, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    attach(d, item_new(d, VDEVC_SEV_HELP, none, NULL, fmt, ap));
    va_end(ap);
}

bool
vdevc_diag_failed(const struct vdevc_diag *d)
{
    return d->errors > 0;
}

void
vdevc_diag_finish(struct vdevc_diag *d)
{
    if (d->errors == 0 && d->warnings == 0)
        return;
    char *s = talloc_strdup(d, "");
    if (d->warnings > 0)
        s = talloc_asprintf_append(s, "%u warning%s", d->warnings,
                                   d->warnings == 1 ? "" : "s");
    if (d->warnings > 0 && d->errors > 0)
        s = talloc_strdup_append(s, " and ");
    if (d->errors > 0)
        s = talloc_asprintf_append(s, "%u error%s", d->errors,
                                   d->errors == 1 ? "" : "s");
    s = talloc_strdup_append(s, " generated.\n");
    emit(d, s);
    talloc_free(s);
}
