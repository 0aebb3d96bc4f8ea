# vdevc: semantic checks and code generation on top of the dsl/ front end.
COMPILER_SRCS := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
COMPILER_OBJS := $(COMPILER_SRCS:%.c=$(B)/%.o)
VDEVC := $(B)/bin/vdevc

$(COMPILER_OBJS) $(B)/compiler/main.o: CFLAGS += -I$(B)/dsl -Idsl -Icompiler
$(COMPILER_OBJS) $(B)/compiler/main.o: | $(B)/dsl/parser.h $(B)/dsl/lexer.h

ifneq ($(wildcard compiler/main.c),)
LIBVDEVC := $(B)/libvdevc.a
$(LIBVDEVC): $(COMPILER_OBJS)
	rm -f $@ && ar rcs $@ $^
$(VDEVC): $(B)/compiler/main.o $(LIBVDEVC) $(LIBVDEVDSL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
ALL_TARGETS += $(VDEVC)
INSTALL_BINS += $(VDEVC)
endif

# `vdevc fmt` over the repository's .vdev files: fmt-check fails when one
# is not in the canonical layout, fmt rewrites them (and the language
# reference's quotes of them; `make golden-update` next). The syntax error
# cases cannot be formatted; fuzz/corpus holds deliberately odd inputs.
FMT_BROKEN := tests/golden/errors/lexical.vdev \
              tests/golden/errors/syntax.vdev \
              tests/golden/errors/unterminated.vdev \
              tests/golden/diag/keyword.vdev \
              tests/golden/diag/semicolon.vdev \
              tests/golden/diag/json-semicolon.vdev \
              tests/migration/check/bad-syntax.new.vdev
FMT_VDEV = $(filter-out fuzz/% $(FMT_BROKEN),$(shell \
             git ls-files '*.vdev' 2>/dev/null || find . -name '*.vdev' | sed 's|^\./||'))
fmt-check: $(VDEVC)
	@$(VDEVC) fmt --check $(FMT_VDEV) && echo "fmt ok"
fmt: $(VDEVC)
	./scripts/fmt-vdev.sh $(VDEVC) $(FMT_VDEV)
CHECK_DEPS += fmt-check
.PHONY: fmt fmt-check
