/* Machine-readable diagnostics: one JSON document (vdevc's own shape, see
 * dsl/README.md) or one SARIF 2.1.0 log for every file of a run. Columns
 * are 1-based bytes; an end column is one past the last character. */
#include <json-c/json.h>
#include <string.h>
#include <talloc.h>

#include "diag.h"

static const char *const sev_names[] = {
    [VDEVC_SEV_ERROR] = "error",
    [VDEVC_SEV_WARNING] = "warning",
    [VDEVC_SEV_NOTE] = "note",
    [VDEVC_SEV_HELP] = "help",
};

static void
add_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_object_new_string(v));
}

static void
add_int(json_object *o, const char *key, int v)
{
    json_object_object_add(o, key, json_object_new_int(v));
}

static char *
render(void *mem_ctx, json_object *root)
{
    const char *s = json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *out = talloc_asprintf(mem_ctx, "%s\n", s);
    json_object_put(root);
    return out;
}

/* ------------------------------------------------------------ JSON */

static void
add_span(json_object *o, struct vdevc_loc loc)
{
    add_int(o, "line", loc.first_line);
    add_int(o, "column", loc.first_column);
    add_int(o, "end_line", loc.last_line);
    add_int(o, "end_column", loc.last_column);
}

static json_object *
json_item(const struct vdevc_diag *d, const struct vdevc_diag_item *it)
{
    json_object *o = json_object_new_object();
    add_str(o, "severity", sev_names[it->sev]);
    if (it->code)
        add_str(o, "code", it->code);
    if (it->option)
        add_str(o, "option", it->option);
    add_str(o, "message", it->msg);
    if (it->loc.first_line > 0) {
        add_str(o, "file", d->file);
        add_span(o, it->loc);
    }
    if (it->fix) {
        json_object *f = json_object_new_object();
        add_span(f, it->loc);
        add_str(f, "replacement", it->fix);
        json_object_object_add(o, "fixit", f);
    }
    if (it->sev == VDEVC_SEV_ERROR || it->sev == VDEVC_SEV_WARNING) {
        json_object *kids = json_object_new_array();
        for (unsigned i = 0; i < it->children.n; i++)
            json_object_array_add(kids, json_item(d, it->children.v[i]));
        json_object_object_add(o, "children", kids);
    }
    return o;
}

char *
vdevc_diag_json(void *mem_ctx, struct vdevc_diag *const *diags, unsigned n)
{
    json_object *root = json_object_new_object();
    json_object *list = json_object_new_array();
    unsigned errors = 0, warnings = 0;
    bool truncated = false;
    for (unsigned k = 0; k < n; k++) {
        const struct vdevc_diag *d = diags[k];
        for (unsigned i = 0; i < d->items.n; i++)
            json_object_array_add(list, json_item(d, d->items.v[i]));
        errors += d->errors;
        warnings += d->warnings;
        truncated |= d->errors > d->max_errors;
    }
    add_int(root, "version", 1);
    json_object_object_add(root, "diagnostics", list);
    add_int(root, "errors", (int)errors);
    add_int(root, "warnings", (int)warnings);
    json_object_object_add(root, "truncated",
                           json_object_new_boolean(truncated));
    return render(mem_ctx, root);
}

/* ------------------------------------------------------------ SARIF */

/* A relative URI reference for a path: RFC 3986 unreserved characters
 * and '/' as they are, everything else percent-encoded. */
static char *
path_uri(void *ctx, const char *path)
{
    char *u = talloc_strdup(ctx, "");
    for (const unsigned char *p = (const void *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
            u = talloc_asprintf_append(u, "%c", *p);
        else
            u = talloc_asprintf_append(u, "%%%02X", *p);
    }
    return u;
}

static json_object *
sarif_region(struct vdevc_loc loc)
{
    json_object *r = json_object_new_object();
    add_int(r, "startLine", loc.first_line);
    add_int(r, "startColumn", loc.first_column);
    add_int(r, "endLine", loc.last_line);
    add_int(r, "endColumn", loc.last_column);
    return r;
}

static json_object *
sarif_artifact(const char *uri)
{
    json_object *a = json_object_new_object();
    add_str(a, "uri", uri);
    return a;
}

static json_object *
sarif_location(const char *uri, struct vdevc_loc loc)
{
    json_object *phys = json_object_new_object();
    json_object_object_add(phys, "artifactLocation", sarif_artifact(uri));
    json_object_object_add(phys, "region", sarif_region(loc));
    json_object *l = json_object_new_object();
    json_object_object_add(l, "physicalLocation", phys);
    return l;
}

static json_object *
sarif_message(const char *text)
{
    json_object *m = json_object_new_object();
    add_str(m, "text", text);
    return m;
}

static json_object *
sarif_fix(const char *uri, const struct vdevc_diag_item *it)
{
    json_object *rep = json_object_new_object();
    json_object_object_add(rep, "deletedRegion", sarif_region(it->loc));
    json_object_object_add(rep, "insertedContent", sarif_message(it->fix));
    json_object *reps = json_object_new_array();
    json_object_array_add(reps, rep);
    json_object *change = json_object_new_object();
    json_object_object_add(change, "artifactLocation", sarif_artifact(uri));
    json_object_object_add(change, "replacements", reps);
    json_object *changes = json_object_new_array();
    json_object_array_add(changes, change);
    json_object *fix = json_object_new_object();
    char desc[256];
    snprintf(desc, sizeof desc, "%s '%s'",
             it->loc.last_column > it->loc.first_column ? "replace with"
                                                        : "insert",
             it->fix);
    json_object_object_add(fix, "description", sarif_message(desc));
    json_object_object_add(fix, "artifactChanges", changes);
    json_object *fixes = json_object_new_array();
    json_object_array_add(fixes, fix);
    return fixes;
}

/* Index of the rule for id in rules, added on first use. */
static int
rule_index(json_object *rules, const char *id, const char *help)
{
    size_t n = json_object_array_length(rules);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(rules, i), *v;
        if (json_object_object_get_ex(r, "id", &v) &&
            strcmp(json_object_get_string(v), id) == 0)
            return (int)i;
    }
    json_object *r = json_object_new_object();
    add_str(r, "id", id);
    if (help)
        json_object_object_add(r, "shortDescription", sarif_message(help));
    json_object_array_add(rules, r);
    return (int)n;
}

static const char *
warning_help(const char *name)
{
    for (unsigned w = 0; w < VDEVC_NR_WARNINGS; w++)
        if (strcmp(vdevc_warning_name(w), name) == 0)
            return vdevc_warning_help(w);
    return NULL;
}

static json_object *
sarif_result(void *ctx, const struct vdevc_diag *d,
             const struct vdevc_diag_item *it, json_object *rules)
{
    const char *uri = path_uri(ctx, d->file);
    const char *id = it->code ? it->code : "error";
    json_object *res = json_object_new_object();
    add_str(res, "ruleId", id);
    add_int(res, "ruleIndex",
            rule_index(rules, id, it->option ? warning_help(id) : NULL));
    add_str(res, "level", it->sev == VDEVC_SEV_ERROR ? "error" : "warning");
    /* Help without a place goes into the message, as a compiler prints
     * it under the error. */
    char *text = talloc_strdup(ctx, it->msg);
    json_object *related = json_object_new_array();
    for (unsigned i = 0; i < it->children.n; i++) {
        const struct vdevc_diag_item *c = it->children.v[i];
        if (c->loc.first_line == 0) {
            text = talloc_asprintf_append(text, "\n%s: %s", sev_names[c->sev],
                                          c->msg);
            continue;
        }
        json_object *l = sarif_location(uri, c->loc);
        add_int(l, "id", (int)json_object_array_length(related));
        json_object_object_add(l, "message", sarif_message(c->msg));
        json_object_array_add(related, l);
    }
    json_object_object_add(res, "message", sarif_message(text));
    json_object *locs = json_object_new_array();
    if (it->loc.first_line > 0)
        json_object_array_add(locs, sarif_location(uri, it->loc));
    json_object_object_add(res, "locations", locs);
    if (json_object_array_length(related) > 0)
        json_object_object_add(res, "relatedLocations", related);
    else
        json_object_put(related);
    if (it->fix && it->loc.first_line > 0)
        json_object_object_add(res, "fixes", sarif_fix(uri, it));
    return res;
}

char *
vdevc_diag_sarif(void *mem_ctx, struct vdevc_diag *const *diags, unsigned n,
                 const char *version)
{
    void *tmp = talloc_new(NULL);
    json_object *rules = json_object_new_array();
    json_object *results = json_object_new_array();
    unsigned errors = 0;
    for (unsigned k = 0; k < n; k++) {
        const struct vdevc_diag *d = diags[k];
        for (unsigned i = 0; i < d->items.n; i++)
            json_object_array_add(results,
                                  sarif_result(tmp, d, d->items.v[i], rules));
        errors += d->errors;
    }
    json_object *driver = json_object_new_object();
    add_str(driver, "name", "vdevc");
    add_str(driver, "version", version);
    json_object_object_add(driver, "rules", rules);
    json_object *tool = json_object_new_object();
    json_object_object_add(tool, "driver", driver);
    json_object *inv = json_object_new_object();
    json_object_object_add(inv, "executionSuccessful",
                           json_object_new_boolean(errors == 0));
    json_object *invs = json_object_new_array();
    json_object_array_add(invs, inv);
    json_object *run = json_object_new_object();
    json_object_object_add(run, "tool", tool);
    json_object_object_add(run, "invocations", invs);
    json_object_object_add(run, "results", results);
    json_object *runs = json_object_new_array();
    json_object_array_add(runs, run);
    json_object *root = json_object_new_object();
    add_str(root, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    add_str(root, "version", "2.1.0");
    json_object_object_add(root, "runs", runs);
    talloc_free(tmp);
    return render(mem_ctx, root);
}
