/* "did you mean": the candidate closest to a misspelt word by
 * Damerau-Levenshtein distance, within a bound that grows with the word. */
#ifndef VDEVC_SUGGEST_H
#define VDEVC_SUGGEST_H

#include <stddef.h>

struct vdevc_suggest {
    const char *word;
    unsigned max; /* largest distance accepted (0: suggest nothing) */
    const char *best;
    unsigned best_d;
};

void vdevc_suggest_init(struct vdevc_suggest *s, const char *word);
/* Offers one candidate; NULL and the word itself are ignored. */
void vdevc_suggest_add(struct vdevc_suggest *s, const char *candidate);
/* The closest candidate (ties: the first in strcmp order), or NULL. */
const char *vdevc_suggest_best(const struct vdevc_suggest *s);
/* Best of a NULL-terminated list, or NULL. */
const char *vdevc_suggest_list(const char *word, const char *const *list);

/* Optimal-string-alignment distance (insertions, deletions, substitutions
 * and swaps of neighbours cost 1); anything above max reads as max + 1. */
unsigned vdevc_edit_distance(const char *a, const char *b, unsigned max);

#endif /* VDEVC_SUGGEST_H */
