/* Editor support (editor/): every reserved word of dsl/lexer.l and every
 * access kind of compiler/sema.c is in the Vim syntax and the TextMate
 * grammar, so neither can drift from the language; Vim really highlights
 * and detects .vdev files; the TextMate grammar scopes a sample line as
 * intended (its patterns run under Python's re, close to Oniguruma for
 * these) and VS Code's extension manifest points at it. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "vdevc_test.h"

#define VIM_SYNTAX "editor/vim/syntax/vdev.vim"
#define TM_GRAMMAR "editor/vscode/syntaxes/vdev.tmLanguage.json"

struct words {
    char *v[256];
    unsigned n;
};

static void
add_word(void *ctx, struct words *w, const char *s, size_t len)
{
    cr_assert_lt(w->n, 256);
    w->v[w->n++] = talloc_strndup(ctx, s, len);
}

static bool
has_word(const struct words *w, const char *s)
{
    for (unsigned i = 0; i < w->n; i++)
        if (!strcmp(w->v[i], s))
            return true;
    return false;
}

/* The lexer's reserved words: its `"word"   return TOKEN;` rules. */
static void
lexer_keywords(void *ctx, struct words *w)
{
    char *src = vt_read(ctx, "dsl/lexer.l", NULL);

    for (char *l = src; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t n = strspn(l + 1, "abcdefghijklmnopqrstuvwxyz_");
        if (l[0] == '"' && n && l[1 + n] == '"' &&
            !strncmp(l + 2 + n + strspn(l + 2 + n, " \t"), "return ", 7))
            add_word(ctx, w, l + 1, n);
    }
    cr_assert_geq(w->n, 20, "the lexer's keyword rules were not found");
}

/* The access kinds: compiler/sema.c's access_names[] strings. */
static void
access_kinds(void *ctx, struct words *w)
{
    char *src = vt_read(ctx, "compiler/sema.c", NULL);
    char *p = strstr(src, "access_names[] = {");
    char *end = p ? strstr(p, "};") : NULL;

    cr_assert_not_null(end);
    while ((p = strstr(p, "= \"")) && p < end) {
        size_t n = strcspn(p + 3, "\"");
        if (n)
            add_word(ctx, w, p + 3, n);
        p += 3 + n;
    }
    cr_assert_geq(w->n, 8);
}

/* Words of the Vim file's `syn keyword GROUP word...` lines. */
static void
vim_keywords(void *ctx, struct words *w)
{
    char *src = vt_read(ctx, VIM_SYNTAX, NULL);

    for (char *l = src; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "syn keyword ", 12))
            continue;
        char *p = l + 12;
        p += strcspn(p, " \n"); /* the group */
        for (;;) {
            p += strspn(p, " ");
            size_t n = strcspn(p, " \n");
            if (!n)
                break;
            if (strncmp(p, "contained", n))
                add_word(ctx, w, p, n);
            p += n;
        }
    }
}

/* Alternatives of the grammar's \b(a|b|c)\b patterns, anywhere in it. */
static void
tm_keywords(void *ctx, struct json_object *o, struct words *w)
{
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            tm_keywords(ctx, json_object_array_get_idx(o, i), w);
        return;
    }
    if (!json_object_is_type(o, json_type_object))
        return;
    json_object_object_foreach(o, key, val)
    {
        const char *m = json_object_get_string(val);
        size_t len = m ? strlen(m) : 0;
        if (strcmp(key, "match") || len < 7 || strncmp(m, "\\b(", 3) ||
            strcmp(m + len - 3, ")\\b")) {
            tm_keywords(ctx, val, w);
            continue;
        }
        for (const char *p = m + 3; p < m + len - 3;) {
            size_t n = strcspn(p, "|)");
            add_word(ctx, w, p, n);
            p += n + 1;
        }
    }
}

Test(editor, every_keyword_and_access_kind_is_highlighted)
{
    void *ctx = talloc_new(NULL);
    struct words lang = {0}, vim = {0}, tm = {0};
    struct json_object *g = json_object_from_file(TM_GRAMMAR);

    lexer_keywords(ctx, &lang);
    access_kinds(ctx, &lang);
    vim_keywords(ctx, &vim);
    cr_assert_not_null(g, "%s is not JSON", TM_GRAMMAR);
    tm_keywords(ctx, g, &tm);
    for (unsigned i = 0; i < lang.n; i++) {
        cr_expect(has_word(&vim, lang.v[i]), "'%s' missing from %s", lang.v[i],
                  VIM_SYNTAX);
        cr_expect(has_word(&tm, lang.v[i]), "'%s' missing from %s", lang.v[i],
                  TM_GRAMMAR);
    }
    /* the checker sees words, not substrings */
    cr_expect(!has_word(&vim, "regi") && !has_word(&tm, "regi"));
    json_object_put(g);
    talloc_free(ctx);
}

static bool
vim_has_syntax(void)
{
    return system("vim --version 2>/dev/null | grep -q '+syntax'") == 0;
}

/* (line, text at the place, expected syntax group) for a sample file. */
static const struct {
    int line;
    const char *at, *group;
} vim_cases[] = {
    {1, "// a", "vdevComment"},     {2, "device", "vdevStructure"},
    {3, "vendor", "vdevProperty"},  {3, "0x1234", "vdevNumber"},
    {4, "mem32", "vdevBarKind"},    {4, "4K", "vdevNumber"},
    {4, "\"doc", "vdevString"},     {4, "\\\"", "vdevEscape"},
    {5, "reg", "vdevStructure"},    {5, "w1c", "vdevAccess"},
    {5, "0b1_0", "vdevNumber"},     {6, "on", "vdevKeyword"},
    {6, "if", "vdevConditional"},   {6, "value", "vdevBuiltin"},
    {6, "notify", "vdevStatement"}, {6, "TODO", "vdevTodo"},
};

static const char sample[] = "// a comment\n"
                             "device t {\n"
                             "    vendor 0x1234; device 2;\n"
                             "    bar 0 mem32 size 4K \"doc \\\" q\" {\n"
                             "        reg r @ 0x0 : 32 w1c = 0b1_0 {\n"
                             "            on write { if (value) { notify 0; "
                             "} } /* TODO */\n"
                             "        }\n"
                             "    }\n"
                             "}\n";

Test(editor, vim_highlights_and_detects_vdev_files)
{
    void *ctx = talloc_new(NULL);
    char dir[] = "/tmp/vdev-vim-XXXXXX", file[64], script[64], out[64];
    char *cwd = getcwd(NULL, 0), *cmd, *got, *expect = talloc_strdup(ctx, "");
    const char *lines[16];
    char *copy = talloc_strdup(ctx, sample);

    if (!vim_has_syntax())
        cr_skip_test("no vim with +syntax here; the keyword test still runs");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/t.vdev", dir);
    snprintf(script, sizeof(script), "%s/check.vim", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    FILE *f = fopen(file, "w");
    fputs(sample, f);
    fclose(f);
    for (unsigned i = 0; i < 9; i++) {
        lines[i] = copy;
        copy = strchr(copy, '\n');
        *copy++ = '\0';
    }
    f = fopen(script, "w");
    fprintf(f, "let s:o = ['ft=' . &filetype]\n");
    for (size_t i = 0; i < sizeof(vim_cases) / sizeof(vim_cases[0]); i++) {
        const char *l = lines[vim_cases[i].line - 1];
        const char *at = strstr(l, vim_cases[i].at);
        cr_assert_not_null(at, "%s", vim_cases[i].at);
        fprintf(f,
                "call add(s:o, '%s: ' . synIDattr(synID(%d, %d, 1), "
                "'name'))\n",
                vim_cases[i].at[0] == '\'' ? "q" : vim_cases[i].at,
                vim_cases[i].line, (int)(at - l) + 1);
        expect = talloc_asprintf_append(expect, "%s: %s\n", vim_cases[i].at,
                                        vim_cases[i].group);
    }
    fprintf(f, "call writefile(s:o, '%s')\nqa!\n", out);
    fclose(f);
    /* as installed: the folder on 'runtimepath', filetype detection on */
    cmd = talloc_asprintf(ctx,
                          "vim -u NONE -i NONE -N -es --cmd 'set rtp^=%s/"
                          "editor/vim' --cmd 'filetype on' --cmd 'syntax on' "
                          "-c 'source %s' %s </dev/null",
                          cwd, script, file);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    got = vt_read(ctx, out, NULL);
    expect = talloc_asprintf(ctx, "ft=vdev\n%s", expect);
    cr_expect_str_eq(got, expect);
    unlink(file);
    unlink(script);
    unlink(out);
    rmdir(dir);
    free(cwd);
    talloc_free(ctx);
}

/* A small TextMate-style scanner over the grammar: at each position the
 * first top-level pattern (includes expanded) that matches there wins.
 * Prints "token scope" per token of the sample line. */
static const char tm_scan_py[] =
    "import json, re, sys\n"
    "g = json.load(open(sys.argv[1]))\n"
    "def flat(ps):\n"
    "    for p in ps:\n"
    "        if 'include' in p:\n"
    "            r = g['repository'][p['include'][1:]]\n"
    "            yield from flat(r.get('patterns', [r]) if 'begin' not in r "
    "else [r])\n"
    "        else: yield p\n"
    "pats = list(flat(g['patterns']))\n"
    "line, i = sys.argv[2], 0\n"
    "while i < len(line):\n"
    "    for p in pats:\n"
    "        m = re.compile(p.get('match') or p['begin']).match(line, i)\n"
    "        if m and m.end() > i:\n"
    "            end = m.end()\n"
    "            while 'begin' in p:  # the earliest of end and inner wins\n"
    "                e = re.compile(p['end']).search(line, end)\n"
    "                ins = [re.compile(q['match']).search(line, end)\n"
    "                       for q in p.get('patterns', [])]\n"
    "                ins = [x for x in ins if x and (not e or x.start() < "
    "e.start())]\n"
    "                if not ins:\n"
    "                    end = e.end() if e else len(line)\n"
    "                    break\n"
    "                end = min(ins, key=lambda x: x.start()).end()\n"
    "            print(line[i:end], p.get('name', '?'))\n"
    "            i = end\n"
    "            break\n"
    "    else: i += 1\n";

Test(editor, textmate_grammar_scopes_a_line)
{
    void *ctx = talloc_new(NULL);
    char *out = NULL, *err = NULL;
    char *const argv[] = {
        (char *)"/usr/bin/python3",
        (char *)"-c",
        (char *)tm_scan_py,
        (char *)TM_GRAMMAR,
        (char *)"reg ctrl @ 0x10 : 32 w1c = 4K \"a \\\" b\"; // x",
        NULL};
    int st = vt_run(ctx, argv, &out, &err);

    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", err);
    cr_expect_str_eq(out, "reg storage.type.vdev\n"
                          "@ punctuation.separator.vdev\n"
                          "0x10 constant.numeric.hex.vdev\n"
                          ": punctuation.separator.vdev\n"
                          "32 constant.numeric.decimal.vdev\n"
                          "w1c storage.modifier.access.vdev\n"
                          "= keyword.operator.vdev\n"
                          "4K constant.numeric.decimal.vdev\n"
                          "\"a \\\" b\" string.quoted.double.vdev\n"
                          "; punctuation.separator.vdev\n"
                          "// x comment.line.double-slash.vdev\n");
    talloc_free(ctx);
}

Test(editor, vscode_extension_points_at_the_grammar)
{
    struct json_object *pkg =
        json_object_from_file("editor/vscode/package.json");
    struct json_object *g = json_object_from_file(TM_GRAMMAR);
    struct json_object *c, *v;

    cr_assert_not_null(pkg);
    cr_assert_not_null(g);
    cr_assert(json_object_object_get_ex(g, "scopeName", &v));
    cr_expect_str_eq(json_object_get_string(v), "source.vdev");
    cr_assert(json_object_object_get_ex(pkg, "contributes", &c));
    cr_assert(json_object_object_get_ex(c, "grammars", &v));
    struct json_object *gr = json_object_array_get_idx(v, 0), *x;
    cr_assert(json_object_object_get_ex(gr, "scopeName", &x));
    cr_expect_str_eq(json_object_get_string(x), "source.vdev");
    cr_assert(json_object_object_get_ex(gr, "path", &x));
    cr_expect_str_eq(json_object_get_string(x),
                     "./syntaxes/vdev.tmLanguage.json");
    cr_assert(json_object_object_get_ex(c, "languages", &v));
    cr_assert(json_object_object_get_ex(json_object_array_get_idx(v, 0),
                                        "extensions", &x));
    cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(x, 0)),
                     ".vdev");
    cr_expect_eq(access("editor/vscode/language-configuration.json", R_OK), 0);
    json_object_put(pkg);
    json_object_put(g);
}
