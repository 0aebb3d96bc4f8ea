/* The bit-field picture of --emit=doc: a register as a row of boxes, two
 * columns per bit, bit numbers read top to bottom above it (MSB left),
 * 64-bit registers in two rows. Labels that do not fit their box become a
 * one-letter key explained under the picture. Plain ASCII, so it renders
 * the same in any Markdown viewer. */
#include <string.h>
#include <talloc.h>

#include "emit_doc.h"
#include "out.h"

/* A field, or a run of reserved bits (f == NULL), within one row. */
struct seg {
    const struct vdevc_field *f;
    unsigned hi, lo;
};

struct keyed {
    const struct vdevc_field *f;
    char key;
};

static const char keys[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "0123456789";

/* Fields and reserved runs covering bits top..bot, MSB first. */
static unsigned
segments(const struct vdevc_reg *r, unsigned top, unsigned bot, struct seg *out)
{
    unsigned n = 0;
    int next = (int)top; /* highest bit not yet covered */
    for (unsigned i = r->fields.n; i-- > 0;) {
        const struct vdevc_field *f = r->fields.v[i];
        if (f->lo_v > top || f->hi_v < bot)
            continue;
        unsigned hi = f->hi_v > top ? top : f->hi_v;
        unsigned lo = f->lo_v < bot ? bot : f->lo_v;
        if ((int)hi < next)
            out[n++] = (struct seg){NULL, (unsigned)next, hi + 1};
        out[n++] = (struct seg){f, hi, lo};
        next = (int)lo - 1;
    }
    if (next >= (int)bot)
        out[n++] = (struct seg){NULL, (unsigned)next, bot};
    return n;
}

static unsigned
inner(const struct seg *s)
{
    return 2 * (s->hi - s->lo + 1) - 1;
}

/* A field cut by the row boundary of a 64-bit register. */
static bool
split(const struct seg *s)
{
    return s->hi != s->f->hi_v || s->lo != s->f->lo_v;
}

static const char *
reserved_label(unsigned room)
{
    return room >= 8 ? "reserved" : room >= 3 ? "res" : "-";
}

/* The key of a field whose name does not fit somewhere: one per field,
 * in MSB-first order of first need. */
static char
key_of(struct keyed *k, unsigned *nk, const struct vdevc_field *f)
{
    for (unsigned i = 0; i < *nk; i++)
        if (k[i].f == f)
            return k[i].key;
    char c = *nk < sizeof keys - 1 ? keys[*nk] : '?';
    k[(*nk)++] = (struct keyed){f, c};
    return c;
}

static void
pad(struct vdevc_out *o, char c, unsigned n)
{
    char buf[160];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memset(buf, c, n);
    buf[n] = '\0';
    vdevc_out_printf(o, "%s", buf);
}

/* One line of digits per decimal place, read top to bottom; no trailing
 * blanks. */
static void
numbers(struct vdevc_out *o, unsigned top, unsigned bot)
{
    char line[2 * 64 + 2];
    for (unsigned tens = top >= 10;; tens = 0) {
        unsigned n = 0, end = 0;
        for (unsigned b = top + 1; b-- > bot;) {
            line[n++] = ' ';
            line[n++] = tens ? (b >= 10 ? (char)('0' + b / 10) : ' ')
                             : (char)('0' + b % 10);
            if (line[n - 1] != ' ')
                end = n;
        }
        line[end] = '\0';
        vdevc_out_printf(o, "%s\n", line);
        if (!tens)
            break;
    }
    for (unsigned b = top + 1; b-- > bot;)
        vdevc_out_printf(o, "+-");
    vdevc_out_printf(o, "+\n");
}

static void
row(struct vdevc_out *o, void *tmp, const struct vdevc_reg *r, unsigned top,
    unsigned bot, struct keyed *k, unsigned *nk)
{
    struct seg s[129];
    unsigned n = segments(r, top, bot, s);
    numbers(o, top, bot);
    for (unsigned i = 0; i < n; i++) {
        unsigned room = inner(&s[i]);
        char key[2] = {0, 0};
        const char *label;
        if (!s[i].f)
            label = reserved_label(room);
        else if (split(&s[i]) &&
                 strlen(label = talloc_asprintf(tmp, "%s[%u:%u]", s[i].f->name,
                                                s[i].hi, s[i].lo)) <= room)
            ;
        else if (strlen(s[i].f->name) <= room)
            label = s[i].f->name;
        else {
            key[0] = key_of(k, nk, s[i].f);
            label = key;
        }
        unsigned len = (unsigned)strlen(label);
        vdevc_out_printf(o, "|");
        pad(o, ' ', (room - len) / 2);
        vdevc_out_printf(o, "%s", label);
        pad(o, ' ', room - len - (room - len) / 2);
    }
    vdevc_out_printf(o, "|\n");
    for (unsigned i = 0; i < n; i++) {
        vdevc_out_printf(o, "+");
        pad(o, '-', inner(&s[i]));
    }
    vdevc_out_printf(o, "+\n");
}

void
vdevc_doc_bits(struct vdevc_out *o, const struct vdevc_reg *r)
{
    struct keyed k[64];
    unsigned nk = 0;
    void *tmp = talloc_new(NULL);
    vdevc_out_printf(o, "```text\n");
    if (r->width > 32) {
        row(o, tmp, r, r->width - 1, 32, k, &nk);
        row(o, tmp, r, 31, 0, k, &nk);
    } else {
        row(o, tmp, r, r->width - 1, 0, k, &nk);
    }
    for (unsigned i = 0; i < nk; i++) {
        const struct vdevc_field *f = k[i].f;
        if (f->hi_v == f->lo_v)
            vdevc_out_printf(o, "%c = %s [%u]\n", k[i].key, f->name, f->lo_v);
        else
            vdevc_out_printf(o, "%c = %s [%u:%u]\n", k[i].key, f->name, f->hi_v,
                             f->lo_v);
    }
    vdevc_out_printf(o, "```\n");
    talloc_free(tmp);
}
