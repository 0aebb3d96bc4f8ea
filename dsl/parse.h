/* Front-end entry point: source text in, AST out; errors go to the
 * diagnostics. Shared by the grammar, the scanner, fmt and the driver. */
#ifndef VDEVC_PARSE_H
#define VDEVC_PARSE_H

#include <stddef.h>

#include "ast.h"
#include "diag.h"

#define VDEVC_MAX_NESTING 64

/* A comment, in the token list vdevc fmt asks for. */
#define VDEVC_TOK_COMMENT (-2)

struct vdevc_token {
    int kind; /* bison token, character token, or VDEVC_TOK_COMMENT */
    struct vdevc_loc loc;
    size_t start, end; /* its bytes in the source */
};

struct vdevc_tokens {
    struct vdevc_token *v;
    size_t n, cap;
};

/* State the scanner and parser share (yyextra / parse-param). */
struct vdevc_parse {
    void *ctx; /* AST allocations */
    struct vdevc_diag *diag;
    struct vdevc_device *device;
    const char *src;
    int line, column;                         /* scanner position, 1-based */
    size_t offset;                            /* scanner position, bytes */
    struct vdevc_loc open[VDEVC_MAX_NESTING]; /* unclosed '{' */
    unsigned depth;
    struct vdevc_loc comment; /* start of an open block comment */
    size_t comment_start;
    const char **strings; /* interned identifiers (hash set) */
    size_t nr_strings, cap_strings;
    /* The last two tokens the parser read (the lookahead and the one
     * before it) and the first two of the current statement: what a
     * syntax error message talks about. */
    struct vdevc_token cur, prev;
    struct vdevc_token stmt[2];
    unsigned nr_stmt;
    const char *stmt_word; /* stmt[0]'s text when an identifier */
    /* A missing ';' is put back once the parser drops the token that
     * revealed it, and that token comes again after it: recovery then
     * resumes where the ';' belonged instead of skipping to the next. */
    struct vdevc_token held;
    uint64_t cur_num, held_num; /* their values */
    const char *cur_str, *held_str;
    bool want_semicolon, redeliver;
    struct vdevc_tokens *toks; /* fmt: every token and comment, or NULL */
};

/* One copy of each identifier per compilation: names repeat a lot. */
const char *vdevc_intern(struct vdevc_parse *p, const char *s, size_t len);
/* Appends to p->toks (when there is one). */
void vdevc_token_push(struct vdevc_parse *p, int kind, struct vdevc_loc loc,
                      size_t start, size_t end);

/* Returns 0 and the device (under ctx) or -EINVAL after reporting errors. */
int vdevc_parse(void *ctx, struct vdevc_diag *diag, const char *src, size_t len,
                struct vdevc_device **_device);
/* Parses src (reporting its syntax errors) and returns every token and
 * comment in source order, under ctx: what vdevc fmt lays out again. */
int vdevc_parse_tokens(void *ctx, struct vdevc_diag *diag, const char *src,
                       size_t len, struct vdevc_tokens **_toks);
/* Is this token kind a keyword? Its spelling, or NULL. */
const char *vdevc_keyword(int kind);

#endif /* VDEVC_PARSE_H */
