/* vdevc fmt: lays a .vdev file out again from its tokens and comments.
 * The grammar's punctuation drives the layout, so a new construct needs
 * nothing here unless it wants its own spacing:
 *   - a { } body that was on one line stays on one line (an empty one is
 *     "{ }"); any other body, and always the device's, has one item per
 *     line, 4 more spaces in;
 *   - an item ends at ';' (at ',' in a body with no ';': an enum);
 *   - a line break inside an item stays, as a continuation line one level
 *     further in, except before ; , ) ] . { and after ( [ .;
 *   - one blank line stays where there were some, but not after '{' or
 *     before '}';
 *   - one space between tokens, none inside ( ) [ ], around '.', before
 *     ';' ',' or after a unary - ~ !, before '(' after a name (but
 *     `when (`, `select (`, a timer's `after (` / `every (` and a loop's
 *     `in (` / `max (`), before '[' except after a field's name,
 *     around ':' inside [ ];
 *   - runs of one-line reg, field, var and buffer declarations align what
 *     follows the name (and a field's bit range); runs of trailing //
 *     comments at one depth align. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <talloc.h>

#include "fmt.h"
#include "parse.h"
#include "parser.h"

struct line {
    unsigned *toks; /* token indices */
    unsigned *gaps; /* spaces before each token (gaps[0] unused) */
    unsigned n, cap;
    unsigned depth;
    bool cont;    /* continuation of an item: one more level in */
    bool blank;   /* an empty line before it */
    bool starts;  /* its first token starts an item */
    bool comment; /* a comment on a line of its own */
    int trailing; /* a comment after the code, or -1 */
    unsigned trailing_gap;
};

struct block {
    bool multi, list;
};

struct fmt {
    void *ctx;
    const char *src;
    const struct vdevc_token *t;
    unsigned n;
    int *match;  /* '{' <-> '}' */
    int *prv;    /* previous token that is not a comment, or -1 */
    bool *unary; /* '-' '~' '!' used as a prefix */
    struct line **lines;
    unsigned nr_lines, cap_lines;
    struct line *cur;
    struct block *stack;
    unsigned nr_blocks, depth; /* open blocks, open multi-line blocks */
    unsigned brackets, parens;
    bool for_head; /* between `for` and its '{' */
    int prev;      /* last token placed (not a comment), or -1 */
    int last_item; /* last token or comment placed, or -1 */
    bool need_nl;
};

static bool
is_comment(const struct fmt *f, int i)
{
    return f->t[i].kind == VDEVC_TOK_COMMENT;
}

static int
kind(const struct fmt *f, int i)
{
    return i < 0 ? 0 : f->t[i].kind;
}

static const char *
text(const struct fmt *f, int i)
{
    return f->src + f->t[i].start;
}

static unsigned
tlen(const struct fmt *f, int i)
{
    return (unsigned)(f->t[i].end - f->t[i].start);
}

/* Line comments lose trailing blanks (and a '\r'). */
static unsigned
comment_len(const struct fmt *f, int i)
{
    unsigned len = tlen(f, i);
    if (text(f, i)[1] == '/')
        while (len > 2 && strchr(" \t\r\f\v", text(f, i)[len - 1]))
            len--;
    return len;
}

/* Line breaks in the source between the last thing placed and token i. */
static unsigned
newlines_before(const struct fmt *f, int i)
{
    size_t from = f->last_item < 0 ? 0 : f->t[f->last_item].end;
    unsigned nl = 0;
    for (size_t k = from; k < f->t[i].start; k++)
        nl += f->src[k] == '\n';
    return f->last_item < 0 ? 0 : nl;
}

/* ------------------------------------------------------------ analysis */

static int
analyse(struct fmt *f)
{
    f->match = talloc_array(f->ctx, int, f->n + 1);
    f->prv = talloc_array(f->ctx, int, f->n + 1);
    f->unary = talloc_zero_array(f->ctx, bool, f->n + 1);
    int *stack = talloc_array(f->ctx, int, f->n + 1);
    unsigned sp = 0;
    int last = -1;
    for (unsigned i = 0; i < f->n; i++) {
        f->match[i] = -1;
        f->prv[i] = last;
        if (is_comment(f, (int)i))
            continue;
        last = (int)i;
        if (f->t[i].kind == '{') {
            stack[sp++] = (int)i;
        } else if (f->t[i].kind == '}') {
            if (sp == 0)
                return -EINVAL;
            f->match[i] = stack[--sp];
            f->match[stack[sp]] = (int)i;
        }
    }
    return sp == 0 ? 0 : -EINVAL;
}

/* A body laid out as one item per line. */
static bool
block_multi(const struct fmt *f, int open)
{
    int close = f->match[open];
    if (close == open + 1)
        return false; /* "{ }" */
    if (f->nr_blocks == 0)
        return true; /* the device */
    return f->t[open].loc.first_line != f->t[close].loc.first_line;
}

/* Items separated by ',' (no ';' and no nested body): an enum. */
static bool
block_list(const struct fmt *f, int open)
{
    for (int i = open + 1; i < f->match[open]; i++)
        if (f->t[i].kind == ';' || f->t[i].kind == '{')
            return false;
    return true;
}

static const struct block *
inner(const struct fmt *f)
{
    static const struct block file = {true, false};
    return f->nr_blocks ? &f->stack[f->nr_blocks - 1] : &file;
}

/* Does the token after p start an item? */
static bool
item_start(const struct fmt *f, int p)
{
    int k = kind(f, p);
    return p < 0 || k == ';' || k == '{' || k == '}' ||
           (k == ',' && inner(f)->list && f->parens == 0);
}

/* ------------------------------------------------------------ spacing */

static bool
operand_end(int k)
{
    return k == IDENT || k == NUMBER || k == STRING || k == ')' || k == ']';
}

static bool
prefix_op(const struct fmt *f, int i, int p)
{
    int k = f->t[i].kind;
    if (k == '~' || k == '!')
        return true;
    if (k != '-')
        return false;
    /* "vendor -1;": a name that starts an item is a property. */
    return !operand_end(kind(f, p)) ||
           (kind(f, p) == IDENT && item_start(f, f->prv[p]));
}

/* The name a `field` declares: '[' after it is spaced. */
static bool
field_name(const struct fmt *f, int p)
{
    return kind(f, p) == IDENT && kind(f, f->prv[p]) == FIELD;
}

static bool
is_word(const struct fmt *f, int p, const char *w)
{
    size_t n = strlen(w);
    return kind(f, p) == IDENT && tlen(f, p) == n &&
           strncmp(text(f, p), w, n) == 0;
}

/* A word before an expression, not a call: `when (COND)`, `select (EXPR)`,
 * `start T after (N) ns` / `every (N)`, `for i in (A) .. B max (N)`. */
static bool
cond_word(const struct fmt *f, int p)
{
    if (is_word(f, p, "when") || is_word(f, p, "select"))
        return true;
    int q = f->prv[p];
    if ((is_word(f, p, "after") || is_word(f, p, "every")) &&
        kind(f, q) == IDENT && q >= 0 && is_word(f, f->prv[q], "start"))
        return true;
    if (is_word(f, p, "in") && kind(f, q) == IDENT && q >= 0 &&
        kind(f, f->prv[q]) == FOR)
        return true;
    return f->for_head && is_word(f, p, "max") && operand_end(kind(f, q));
}

static unsigned
gap(const struct fmt *f, int p, int i)
{
    int pk = kind(f, p), k = f->t[i].kind;
    if (f->unary[p])
        return 0;
    if (k == ';' || k == ',' || k == ')' || k == ']' || k == '.')
        return 0;
    if (pk == '(' || pk == '[' || pk == '.')
        return 0;
    if (k == '(')
        return pk == IDENT && !cond_word(f, p) ? 0 : 1;
    if (k == '[')
        return operand_end(pk) && !field_name(f, p) ? 0 : 1;
    if ((k == ':' || pk == ':') && f->brackets > 0)
        return 0;
    return 1;
}

/* ------------------------------------------------------------ lines */

static void
line_push(struct fmt *f, struct line *l, unsigned tok, unsigned g)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->toks = talloc_realloc(l, l->toks, unsigned, l->cap);
        l->gaps = talloc_realloc(l, l->gaps, unsigned, l->cap);
    }
    l->toks[l->n] = tok;
    l->gaps[l->n++] = g;
}

static struct line *
line_new(struct fmt *f, unsigned depth, bool cont, bool blank)
{
    struct line *l = talloc_zero(f->ctx, struct line);
    l->depth = depth;
    l->cont = cont;
    l->blank = blank && f->nr_lines > 0;
    l->trailing = -1;
    if (f->nr_lines == f->cap_lines) {
        f->cap_lines = f->cap_lines ? f->cap_lines * 2 : 64;
        f->lines =
            talloc_realloc(f->ctx, f->lines, struct line *, f->cap_lines);
    }
    f->lines[f->nr_lines++] = l;
    f->cur = l;
    return l;
}

/* A new line for token (or comment) i. */
static void
open_line(struct fmt *f, int i, unsigned depth)
{
    unsigned nl = newlines_before(f, i);
    bool starts = item_start(f, f->prev);
    bool blank = nl >= 2 && kind(f, f->last_item) != '{' && f->t[i].kind != '}';
    struct line *l = line_new(f, depth, !starts, blank);
    l->starts = starts;
    f->need_nl = false;
}

/* ------------------------------------------------------------ placing */

static void
place_comment(struct fmt *f, int i)
{
    const char *s = text(f, i);
    bool own_line = s[1] == '/' || memchr(s, '\n', tlen(f, i));
    if (f->cur && f->cur->n > 0 && !f->need_nl && f->cur->trailing < 0 &&
        newlines_before(f, i) == 0) {
        if (own_line) {
            f->cur->trailing = i;
            f->cur->trailing_gap = 1;
            f->need_nl = true;
        } else {
            int k = kind(f, f->last_item);
            line_push(f, f->cur, (unsigned)i, k == '(' || k == '[' ? 0 : 1);
        }
        f->last_item = i;
        return;
    }
    open_line(f, i, f->depth);
    f->cur->comment = true;
    line_push(f, f->cur, (unsigned)i, 0);
    f->need_nl = true;
    f->last_item = i;
}

static bool
keeps_break(const struct fmt *f, int p, int i)
{
    int k = f->t[i].kind, pk = kind(f, p);
    if (k == '{' || k == ';' || k == ',' || k == ')' || k == ']' || k == '.')
        return false;
    if (pk == '(' || pk == '[' || pk == '.')
        return false;
    return newlines_before(f, i) > 0;
}

/* Does token i start a new line? */
static bool
breaks_before(const struct fmt *f, int i)
{
    int p = f->prev, pk = kind(f, p), k = f->t[i].kind;
    const struct block *b = inner(f);
    if (!f->cur || f->cur->n == 0 || f->need_nl)
        return true;
    if (!b->multi)
        return false;
    if (pk == '{' || (pk == ';' && f->parens == 0))
        return true;
    if (pk == ',' && b->list && f->parens == 0)
        return true;
    if (pk == '}')
        return k != ELSE;
    return keeps_break(f, p, i);
}

static void
place_close(struct fmt *f, int i)
{
    struct block b = f->stack[--f->nr_blocks];
    if (b.multi) {
        f->depth--;
        open_line(f, i, f->depth);
        f->cur->cont = false;
        line_push(f, f->cur, (unsigned)i, 0);
    } else {
        line_push(f, f->cur, (unsigned)i, gap(f, f->last_item, i));
    }
}

static void
place_token(struct fmt *f, int i)
{
    int k = f->t[i].kind;
    f->unary[i] = prefix_op(f, i, f->prev);
    if (k == '}') {
        place_close(f, i);
    } else if (breaks_before(f, i)) {
        open_line(f, i, f->depth);
        line_push(f, f->cur, (unsigned)i, 0);
    } else {
        line_push(f, f->cur, (unsigned)i, gap(f, f->last_item, i));
    }
    if (k == '{') {
        struct block b = {block_multi(f, i), block_list(f, i)};
        f->stack[f->nr_blocks++] = b;
        f->depth += b.multi;
    }
    f->brackets += (k == '[') - (k == ']' && f->brackets > 0);
    f->parens += (k == '(') - (k == ')' && f->parens > 0);
    f->for_head = k == FOR || (f->for_head && k != '{');
    f->prev = i;
    f->last_item = i;
}

/* ------------------------------------------------------------ alignment */

static unsigned
width_to(const struct fmt *f, const struct line *l, unsigned end)
{
    unsigned w = 0;
    for (unsigned j = 0; j < end && j < l->n; j++)
        w += (j ? l->gaps[j] : 0) + tlen(f, (int)l->toks[j]);
    return w;
}

static unsigned
code_width(const struct fmt *f, const struct line *l)
{
    return (l->depth + l->cont) * 4 + width_to(f, l, l->n);
}

/* Index in l just past the bracket group starting at j (or j). */
static unsigned
skip_brackets(const struct fmt *f, const struct line *l, unsigned j)
{
    if (j >= l->n || kind(f, (int)l->toks[j]) != '[')
        return j;
    unsigned depth = 0;
    for (; j < l->n; j++) {
        int k = kind(f, (int)l->toks[j]);
        depth += (k == '[') - (k == ']');
        if (depth == 0)
            return j + 1;
    }
    return l->n;
}

/* A whole one-line declaration with a name after its keyword. */
static int
decl_kind(const struct fmt *f, const struct line *l)
{
    if (l->comment || l->cont || !l->starts || l->n < 3)
        return 0;
    int k = kind(f, (int)l->toks[0]), last = kind(f, (int)l->toks[l->n - 1]);
    if (k != REG && k != FIELD && k != VAR && k != BUFFER)
        return 0;
    if (kind(f, (int)l->toks[1]) != IDENT || (last != ';' && last != '}'))
        return 0;
    return k;
}

/* Where padding goes: before the token at index `cell` (0: none). */
static unsigned
cell_end(const struct fmt *f, const struct line *l, int which)
{
    int k = kind(f, (int)l->toks[0]);
    unsigned j = 2;
    if (k == REG || k == BUFFER)
        j = skip_brackets(f, l, j);
    if (which == 2) {
        if (k != FIELD || j >= l->n || kind(f, (int)l->toks[j]) != '[')
            return 0;
        j = skip_brackets(f, l, j);
    }
    if (j >= l->n || kind(f, (int)l->toks[j]) == ';' ||
        kind(f, (int)l->toks[j]) == '{')
        return 0;
    return j;
}

static void
align_cells(const struct fmt *f, struct line **run, unsigned n, int which)
{
    unsigned max = 0, have = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned c = cell_end(f, run[i], which);
        if (c == 0)
            continue;
        have++;
        unsigned w = width_to(f, run[i], c);
        max = w > max ? w : max;
    }
    if (have < 2)
        return;
    for (unsigned i = 0; i < n; i++) {
        unsigned c = cell_end(f, run[i], which);
        if (c != 0)
            run[i]->gaps[c] += max - width_to(f, run[i], c);
    }
}

static void
align_names(struct fmt *f)
{
    for (unsigned i = 0; i < f->nr_lines;) {
        int k = decl_kind(f, f->lines[i]);
        unsigned j = i + 1;
        while (k != 0 && j < f->nr_lines && !f->lines[j]->blank &&
               decl_kind(f, f->lines[j]) == k &&
               f->lines[j]->depth == f->lines[i]->depth)
            j++;
        if (j - i >= 2) {
            align_cells(f, &f->lines[i], j - i, 1);
            align_cells(f, &f->lines[i], j - i, 2);
        }
        i = j;
    }
}

static bool
has_line_comment(const struct fmt *f, const struct line *l)
{
    return l->trailing >= 0 && text(f, l->trailing)[1] == '/';
}

static void
align_comments(struct fmt *f)
{
    for (unsigned i = 0; i < f->nr_lines;) {
        unsigned j = i;
        unsigned max = 0;
        while (j < f->nr_lines && has_line_comment(f, f->lines[j]) &&
               (j == i || (!f->lines[j]->blank &&
                           f->lines[j]->depth == f->lines[i]->depth))) {
            unsigned w = code_width(f, f->lines[j]);
            max = w > max ? w : max;
            j++;
        }
        for (unsigned k = i; j - i >= 2 && k < j; k++)
            f->lines[k]->trailing_gap = max + 1 - code_width(f, f->lines[k]);
        i = j > i ? j : i + 1;
    }
}

/* ------------------------------------------------------------ output */

/* The output grows by appends: a length, not strlen, keeps it linear. */
struct buf {
    char *s;
    size_t len, cap;
};

static void
put(struct buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = talloc_realloc(NULL, b->s, char, b->cap);
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
put_spaces(struct buf *b, unsigned n)
{
    static const char spaces[] = "                                ";
    for (; n > 32; n -= 32)
        put(b, spaces, 32);
    put(b, spaces, n);
}

static char *
render(const struct fmt *f, void *mem_ctx)
{
    struct buf b = {0};
    put(&b, "", 0);
    for (unsigned i = 0; i < f->nr_lines; i++) {
        const struct line *l = f->lines[i];
        if (l->blank)
            put(&b, "\n", 1);
        put_spaces(&b, (l->depth + l->cont) * 4);
        for (unsigned j = 0; j < l->n; j++) {
            int t = (int)l->toks[j];
            put_spaces(&b, j ? l->gaps[j] : 0);
            put(&b, text(f, t),
                is_comment(f, t) ? comment_len(f, t) : tlen(f, t));
        }
        if (l->trailing >= 0) {
            put_spaces(&b, l->trailing_gap);
            put(&b, text(f, l->trailing), comment_len(f, l->trailing));
        }
        put(&b, "\n", 1);
    }
    return talloc_steal(mem_ctx, b.s);
}

static char *
layout(void *mem_ctx, const char *src, const struct vdevc_tokens *toks)
{
    struct fmt f = {
        .ctx = talloc_new(NULL),
        .src = src,
        .t = toks->v,
        .n = (unsigned)toks->n,
        .prev = -1,
        .last_item = -1,
    };
    char *out = NULL;
    f.stack = talloc_array(f.ctx, struct block, f.n + 1);
    if (analyse(&f) == 0) {
        for (unsigned i = 0; i < f.n; i++) {
            if (is_comment(&f, (int)i))
                place_comment(&f, (int)i);
            else
                place_token(&f, (int)i);
        }
        align_names(&f);
        align_comments(&f);
        out = render(&f, mem_ctx);
    }
    talloc_free(f.ctx);
    return out;
}

/* ------------------------------------------------------------ checking */

static bool
same_token(const char *a, const struct vdevc_token *x, const char *b,
           const struct vdevc_token *y)
{
    if (x->kind != y->kind)
        return false;
    size_t la = x->end - x->start, lb = y->end - y->start;
    const char *sa = a + x->start, *sb = b + y->start;
    if (x->kind == VDEVC_TOK_COMMENT && sa[1] == '/') {
        while (la > 2 && strchr(" \t\r\f\v", sa[la - 1]))
            la--;
        while (lb > 2 && strchr(" \t\r\f\v", sb[lb - 1]))
            lb--;
    }
    return la == lb && memcmp(sa, sb, la) == 0;
}

int
vdevc_fmt(void *mem_ctx, struct vdevc_diag *diag, const char *src, size_t len,
          char **_out)
{
    if (memchr(src, '\0', len)) {
        /* The layout is built as C strings. */
        const char *nul = memchr(src, '\0', len);
        int line = 1;
        for (const char *p = src; p < nul; p++)
            line += *p == '\n';
        struct vdevc_loc at = {line, 1, line, 1};
        vdevc_error(diag, at, "nul-byte", "a NUL byte: not a text file");
        return -EINVAL;
    }
    void *tmp = talloc_new(NULL);
    struct vdevc_tokens *before, *after;
    int rc = vdevc_parse_tokens(tmp, diag, src, len, &before);
    if (rc != 0)
        goto done;
    char *out = layout(tmp, src, before);
    struct vdevc_diag *check =
        vdevc_diag_new(tmp, diag->file, out, out ? strlen(out) : 0, NULL);
    rc = !out ? -EPROTO
              : vdevc_parse_tokens(tmp, check, out, strlen(out), &after);
    for (size_t i = 0; rc == 0 && i < before->n; i++)
        if (i >= after->n || !same_token(src, &before->v[i], out, &after->v[i]))
            rc = -EPROTO;
    if (rc == 0 && before->n != after->n)
        rc = -EPROTO;
    if (rc != 0) {
        struct vdevc_loc top = {1, 1, 1, 1};
        vdevc_error(diag, top, "fmt-internal",
                    "vdevc fmt would change this file's tokens; left as it "
                    "is (a bug in fmt: please report it)");
        rc = -EPROTO;
        goto done;
    }
    *_out = talloc_steal(mem_ctx, out);
done:
    talloc_free(tmp);
    return rc;
}
