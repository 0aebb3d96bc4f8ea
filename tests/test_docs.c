/* The man pages (doc/man/): groff renders each without a warning; each
 * names every option its program's --help lists (vdevctl also every
 * command, vdev(5) every reserved word of the lexer), so they cannot drift;
 * they carry the version the programs print; and `make install-share`
 * (doc/build.mk, part of `make install`) installs them with the editor
 * files, completions and schemas. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "vdevc_test.h"

static const char *const pages[] = {
    "doc/man/vdevctl.1",
    "doc/man/vdevc.1",
    "doc/man/vdev-server.1",
    "doc/man/vdev.5",
};

/* stdout of a shell command; asserts it exited 0. */
static char *
sh(void *ctx, const char *cmd)
{
    char *const argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL};
    char *out = NULL, *err = NULL;
    int st = vt_run(ctx, argv, &out, &err);

    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s", cmd, err);
    return out;
}

static const char *
build_dir(void)
{
    const char *b = getenv("VDEV_BUILD");

    return b ? b : "build";
}

Test(docs, man_pages_render_without_warnings)
{
    void *ctx = talloc_new(NULL);

    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        char *const argv[] = {(char *)"/usr/bin/groff",
                              (char *)"-man",
                              (char *)"-Tutf8",
                              (char *)"-ww",
                              (char *)"-z",
                              (char *)pages[i],
                              NULL};
        char *out = NULL, *err = NULL;
        int st = vt_run(ctx, argv, &out, &err);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", pages[i]);
        cr_expect_str_eq(err, "", "%s: %s", pages[i], err);
    }
    /* and man(1) shows one as a person would see it */
    char *text = sh(ctx, "MANWIDTH=80 man -l doc/man/vdevctl.1 2>&1");
    cr_expect_not_null(strstr(text, "EXIT STATUS"), "%s", text);
    talloc_free(ctx);
}

/* Each --long option in help appears in the page (as troff's \-\-long). */
static void
expect_options(void *ctx, const char *help, const char *page)
{
    char *src = vt_read(ctx, page, NULL);
    unsigned seen = 0;

    for (const char *p = help; (p = strstr(p, "--")); p += 2) {
        size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
        if (!n || (p > help && p[-1] != ' ' && p[-1] != ','))
            continue;
        char *troff = talloc_strdup(ctx, "\\-\\-");
        for (size_t i = 0; i < n; i++)
            troff = talloc_asprintf_append(
                troff, "%s", p[2 + i] == '-' ? "\\-" : (char[]){p[2 + i], 0});
        cr_expect_not_null(strstr(src, troff), "%s lacks --%.*s", page, (int)n,
                           p + 2);
        seen++;
    }
    cr_expect_geq(seen, 5, "no options found in the help of %s", page);
}

Test(docs, man_pages_name_every_option_and_command)
{
    void *ctx = talloc_new(NULL);
    const char *b = build_dir();

    char *help = sh(ctx, talloc_asprintf(ctx, "%s/bin/vdevctl --help", b));
    expect_options(ctx, help, "doc/man/vdevctl.1");
    expect_options(ctx,
                   sh(ctx, talloc_asprintf(ctx, "%s/bin/vdev-edu --help", b)),
                   "doc/man/vdev-server.1");
    expect_options(ctx, sh(ctx, talloc_asprintf(ctx, "%s/bin/vdevc --help", b)),
                   "doc/man/vdevc.1");

    /* vdevctl's commands: the indented first words of its usage */
    char *page = vt_read(ctx, "doc/man/vdevctl.1", NULL);
    unsigned cmds = 0;
    for (char *l = help; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t n = strspn(l + 2, "abcdefghijklmnopqrstuvwxyz");
        if (strncmp(l, "  ", 2) || !n || (l[2 + n] != ' ' && l[2 + n] != '\n'))
            continue;
        char *w = talloc_strndup(ctx, l + 2, n);
        cr_expect(strstr(page, talloc_asprintf(ctx, "\n.B %s\n", w)) ||
                      strstr(page, talloc_asprintf(ctx, "\n.BI %s \"", w)),
                  "vdevctl.1 has no entry for %s", w);
        cmds++;
    }
    cr_expect_eq(cmds, 15, "commands in vdevctl --help: %u", cmds);

    /* vdev(5) lists the reserved words */
    char *lexer = vt_read(ctx, "dsl/lexer.l", NULL);
    char *five = vt_read(ctx, "doc/man/vdev.5", NULL);
    unsigned words = 0;
    for (char *l = lexer; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t n = strspn(l + 1, "abcdefghijklmnopqrstuvwxyz_");
        if (l[0] != '"' || !n || l[1 + n] != '"' ||
            strncmp(l + 2 + n + strspn(l + 2 + n, " \t"), "return ", 7))
            continue;
        char *w = talloc_strndup(ctx, l + 1, n);
        cr_expect(strstr(five, talloc_asprintf(ctx, "\n.BR %s ,\n", w)) ||
                      strstr(five, talloc_asprintf(ctx, "\n.B %s\n", w)) ||
                      strstr(five, talloc_asprintf(ctx, "\n.BR %s ;\n", w)),
                  "vdev.5 does not list the reserved word '%s'", w);
        words++;
    }
    cr_expect_geq(words, 20);
    talloc_free(ctx);
}

Test(docs, man_pages_carry_the_version)
{
    void *ctx = talloc_new(NULL);
    char *v =
        sh(ctx, talloc_asprintf(ctx, "%s/bin/vdevctl --version", build_dir()));
    char *want;

    cr_assert_eq(strncmp(v, "vdevctl ", 8), 0);
    v[strcspn(v, "\n")] = '\0';
    want = talloc_asprintf(ctx, "\"vdev %s\"", v + 8);
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        char *src = vt_read(ctx, pages[i], NULL);
        char *th = strstr(src, "\n.TH ");
        cr_assert_not_null(th, "%s", pages[i]);
        *strchr(th + 1, '\n') = '\0';
        cr_expect_not_null(strstr(th, want), "%s: %s, want %s", pages[i], th,
                           want);
    }
    talloc_free(ctx);
}

Test(docs, install_share_installs_everything)
{
    void *ctx = talloc_new(NULL);
    char dir[] = "/tmp/vdev-share-XXXXXX";
    static const char *const files[][2] = {
        {"doc/man/vdevctl.1", "share/man/man1/vdevctl.1"},
        {"doc/man/vdevc.1", "share/man/man1/vdevc.1"},
        {"doc/man/vdev-server.1", "share/man/man1/vdev-server.1"},
        {"doc/man/vdev.5", "share/man/man5/vdev.5"},
        {"editor/vim/syntax/vdev.vim", "share/vim/vimfiles/syntax/vdev.vim"},
        {"editor/vim/ftdetect/vdev.vim",
         "share/vim/vimfiles/ftdetect/vdev.vim"},
        {"editor/vim/ftplugin/vdev.vim",
         "share/vim/vimfiles/ftplugin/vdev.vim"},
        {"editor/vscode/package.json", "share/vdev/editor/vscode/package.json"},
        {"editor/vscode/syntaxes/vdev.tmLanguage.json",
         "share/vdev/editor/vscode/syntaxes/vdev.tmLanguage.json"},
        {"completion/vdevctl.bash",
         "share/bash-completion/completions/vdevctl"},
        {"completion/vdevc.bash", "share/bash-completion/completions/vdevc"},
        {"tools/vdevctl/schema/list.json",
         "share/vdev/schema/vdevctl/list.json"},
        {"dsl/README.md", "share/doc/vdev/language.md"},
    };

    cr_assert_not_null(mkdtemp(dir));
    /* a make of its own, not the one running the tests */
    sh(ctx, talloc_asprintf(ctx,
                            "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s "
                            "install-share DESTDIR=%s PREFIX=/usr",
                            dir));
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *to = talloc_asprintf(ctx, "%s/usr/%s", dir, files[i][1]);
        size_t a = 0, b = 0;
        char *want = vt_read(ctx, files[i][0], &a);
        cr_assert_eq(access(to, R_OK), 0, "%s not installed", to);
        char *got = vt_read(ctx, to, &b);
        cr_expect(a == b && !memcmp(want, got, a), "%s differs", to);
    }
    sh(ctx, talloc_asprintf(ctx, "rm -rf %s", dir));
    talloc_free(ctx);
}
