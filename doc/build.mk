# Installed documentation and integration files, none of them built: man
# pages (doc/man/), Vim and VS Code/TextMate support (editor/), bash
# completion (completion/), vdevctl's JSON Schemas and the language
# reference. `make install` installs them with the rest.
SHARE = $(DESTDIR)$(PREFIX)/share
VIMFILES = $(SHARE)/vim/vimfiles
VSCODE_EXT = $(SHARE)/vdev/editor/vscode

install: install-share
install-share:
	install -d $(SHARE)/man/man1 $(SHARE)/man/man5 \
	    $(VIMFILES)/syntax $(VIMFILES)/ftdetect $(VIMFILES)/ftplugin \
	    $(VSCODE_EXT)/syntaxes $(SHARE)/bash-completion/completions \
	    $(SHARE)/vdev/schema/vdevctl $(SHARE)/doc/vdev
	install -m 644 doc/man/*.1 $(SHARE)/man/man1/
	install -m 644 doc/man/*.5 $(SHARE)/man/man5/
	for d in syntax ftdetect ftplugin; do \
	    install -m 644 editor/vim/$$d/vdev.vim $(VIMFILES)/$$d/ || exit 1; done
	install -m 644 editor/vscode/package.json \
	    editor/vscode/language-configuration.json $(VSCODE_EXT)/
	install -m 644 editor/vscode/syntaxes/vdev.tmLanguage.json \
	    $(VSCODE_EXT)/syntaxes/
	install -m 644 completion/vdevctl.bash \
	    $(SHARE)/bash-completion/completions/vdevctl
	install -m 644 completion/vdevc.bash \
	    $(SHARE)/bash-completion/completions/vdevc
	install -m 644 tools/vdevctl/schema/*.json $(SHARE)/vdev/schema/vdevctl/
	install -m 644 dsl/README.md $(SHARE)/doc/vdev/language.md

.PHONY: install-share
