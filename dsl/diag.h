/* Diagnostics: errors and warnings with a stable code, a location, the
 * source line with a caret underline, notes, help and fix-its; printed as
 * text (coloured on request) or kept for a JSON or SARIF report. */
#ifndef VDEVC_DIAG_H
#define VDEVC_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ast.h"

#define VDEVC_MAX_ERRORS 20

/* Every warning: X(ID, "name", "what it reports"). A new warning is one
 * line here plus a vdevc_warning() call where it is found; -Wname,
 * -Wno-name, -Werror=name and the JSON/SARIF rule list follow from it.
 * (Banks, when the language gets them, add
 *  X(BANK_UNSELECTABLE, "bank-never-selectable", "..."). ) */
#define VDEVC_WARNINGS(X)                                                      \
    X(UNUSED_VARIABLE, "unused-variable",                                      \
      "a var or buffer that no hook or interrupt expression refers to")        \
    X(UNUSED_LOCAL, "unused-local", "a 'let' whose value is never read")       \
    X(UNUSED_FUNCTION, "unused-function",                                      \
      "an extern function or proc no hook calls")                              \
    X(UNREAD_FIELD, "unread-field",                                            \
      "a write-only field that no hook or interrupt expression reads: "        \
      "what the guest writes is lost")                                         \
    X(CONSTANT_CONDITION, "constant-condition",                                \
      "an if or interrupt expression whose value is known at compile time")    \
    X(SHADOW, "shadow", "a 'let' that hides a register, field or variable")    \
    X(BANK_UNSELECTABLE, "bank-unselectable",                                  \
      "a banked register whose condition is never true")                       \
    X(MIG_TIMER_REMOVED, "mig-timer-removed",                                  \
      "--check-migration: the old revision's timer is gone (a stream saved "   \
      "while it runs is refused)")                                             \
    X(UNUSED_TIMER, "unused-timer", "a timer no statement starts")             \
    X(UNUSED_EVENT, "unused-event", "an event no statement emits")

enum vdevc_warning {
#define VDEVC_W_ENUM(id, name, help) VDEVC_W_##id,
    VDEVC_WARNINGS(VDEVC_W_ENUM)
#undef VDEVC_W_ENUM
        VDEVC_NR_WARNINGS
};

const char *vdevc_warning_name(enum vdevc_warning w);
const char *vdevc_warning_help(enum vdevc_warning w);

enum vdevc_diag_format {
    VDEVC_DIAG_TEXT,
    VDEVC_DIAG_JSON,
    VDEVC_DIAG_SARIF,
};

/* How a run reports: shared by every file it compiles. */
struct vdevc_diag_opts {
    enum vdevc_diag_format format;
    bool color;       /* ANSI colours in the text format */
    uint32_t enabled; /* one bit per enum vdevc_warning */
    uint32_t werror;  /* enabled warnings reported as errors */
};

/* Text, no colour, every warning on, none an error. */
void vdevc_diag_opts_init(struct vdevc_diag_opts *o);
/* Applies one flag without its leading "-W" ("all", "error", "no-shadow",
 * "error=shadow", "no-error=shadow"); -EINVAL for an unknown one. */
int vdevc_diag_opts_flag(struct vdevc_diag_opts *o, const char *flag);

enum vdevc_severity {
    VDEVC_SEV_ERROR,
    VDEVC_SEV_WARNING,
    VDEVC_SEV_NOTE,
    VDEVC_SEV_HELP,
};

/* One reported diagnostic, kept for the JSON and SARIF reports. */
struct vdevc_diag_item {
    enum vdevc_severity sev;
    const char *code;   /* error code or warning name; NULL for notes */
    const char *option; /* "-Wshadow", "-Werror=shadow" or NULL */
    const char *msg;
    struct vdevc_loc loc;      /* first_line 0: no location */
    const char *fix;           /* replaces loc's text (inserted when loc is
                                  empty), or NULL */
    struct vdevc_vec children; /* notes and help, in order */
};

struct vdevc_diag {
    const char *file; /* as given on the command line */
    const char *src;  /* whole source text */
    size_t src_len;
    const char **lines; /* start of each line, built on demand */
    unsigned nr_lines;
    unsigned errors;   /* reported so far (including suppressed) */
    unsigned warnings; /* reported as warnings */
    unsigned werrors;  /* warnings reported as errors (in errors too) */
    unsigned max_errors;
    FILE *out;            /* text format: where it goes; NULL: kept */
    char *text;           /* what was reported, when out is NULL */
    bool last_suppressed; /* notes follow their error */
    const struct vdevc_diag_opts *opts;
    struct vdevc_vec items;       /* JSON/SARIF: what was reported */
    struct vdevc_diag_item *last; /* where notes and help attach */
};

struct vdevc_diag *vdevc_diag_new(void *mem_ctx, const char *file,
                                  const char *src, size_t len, FILE *out);

void vdevc_error(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void vdevc_verror(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
                  const char *fmt, va_list ap);
/* An error whose fix is to put `fix` in place of loc's text (or insert it
 * there when loc is empty): shown under the caret, and in JSON/SARIF. */
void vdevc_error_fix(struct vdevc_diag *d, struct vdevc_loc loc,
                     const char *code, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* False when the warning is off (its notes are dropped too). */
bool vdevc_warning(struct vdevc_diag *d, struct vdevc_loc loc,
                   enum vdevc_warning w, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void vdevc_note(struct vdevc_diag *d, struct vdevc_loc loc, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));
bool vdevc_vwarning(struct vdevc_diag *d, struct vdevc_loc loc,
                    enum vdevc_warning w, const char *fmt, va_list ap);
/* Is w on at all? (Saves looking for what nobody will see.) */
bool vdevc_warning_enabled(const struct vdevc_diag *d, enum vdevc_warning w);
/* "  help: ..." under the last diagnostic, without a location. */
void vdevc_help(struct vdevc_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error at loc for an unknown word, with "did you mean 'best'?" and
 * the fix-it when best is not NULL. */
void vdevc_error_unknown(struct vdevc_diag *d, struct vdevc_loc loc,
                         const char *code, const char *best, const char *fmt,
                         ...) __attribute__((format(printf, 5, 6)));

bool vdevc_diag_failed(const struct vdevc_diag *d);
/* Text format: "N errors generated." style summary, when anything was
 * reported. Other formats print nothing here: see vdevc_diag_report(). */
void vdevc_diag_finish(struct vdevc_diag *d);

/* diag_json.c: one JSON or SARIF 2.1.0 document for every diagnostic of
 * the given files (a run that compiles two files reports both). */
char *vdevc_diag_json(void *mem_ctx, struct vdevc_diag *const *diags,
                      unsigned n);
char *vdevc_diag_sarif(void *mem_ctx, struct vdevc_diag *const *diags,
                       unsigned n, const char *version);

#endif /* VDEVC_DIAG_H */
