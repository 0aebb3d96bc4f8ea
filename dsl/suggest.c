/* "did you mean": edit distance with a cut-off, and the bound: one edit
 * for words of 3-4 letters, two up to 7, three from 8 (shorter words get
 * no suggestion; anything nearer than that is noise). */
#include <string.h>

#include "suggest.h"

#define MAX_WORD 64

static unsigned
min3(unsigned a, unsigned b, unsigned c)
{
    unsigned m = a < b ? a : b;
    return m < c ? m : c;
}

unsigned
vdevc_edit_distance(const char *a, const char *b, unsigned max)
{
    size_t n = strlen(a), m = strlen(b);
    if (n >= MAX_WORD || m >= MAX_WORD)
        return max + 1;
    if ((n > m ? n - m : m - n) > max)
        return max + 1;
    /* Three rows: i-2, i-1, i (the swap looks two rows back). */
    unsigned rows[3][MAX_WORD + 1];
    unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (unsigned)i;
        unsigned row_min = cur[0];
        for (size_t j = 1; j <= m; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && pp[j - 2] + 1 < cur[j])
                cur[j] = pp[j - 2] + 1;
            if (cur[j] < row_min)
                row_min = cur[j];
        }
        if (row_min > max)
            return max + 1;
        unsigned *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[m] > max ? max + 1 : prev[m];
}

void
vdevc_suggest_init(struct vdevc_suggest *s, const char *word)
{
    size_t len = strlen(word);
    s->word = word;
    s->max = len < 3 ? 0 : len < 5 ? 1 : len < 8 ? 2 : 3;
    s->best = NULL;
    s->best_d = s->max + 1;
}

void
vdevc_suggest_add(struct vdevc_suggest *s, const char *candidate)
{
    if (!candidate || s->max == 0 || strcmp(candidate, s->word) == 0)
        return;
    unsigned d = vdevc_edit_distance(s->word, candidate, s->max);
    /* Not a rewrite of the whole candidate ('ab' for 'xy'). */
    if (d > s->max || d >= strlen(candidate))
        return;
    if (d < s->best_d || (d == s->best_d && strcmp(candidate, s->best) < 0)) {
        s->best = candidate;
        s->best_d = d;
    }
}

const char *
vdevc_suggest_best(const struct vdevc_suggest *s)
{
    return s->best;
}

const char *
vdevc_suggest_list(const char *word, const char *const *list)
{
    struct vdevc_suggest s;
    vdevc_suggest_init(&s, word);
    for (; *list; list++)
        vdevc_suggest_add(&s, *list);
    return vdevc_suggest_best(&s);
}
