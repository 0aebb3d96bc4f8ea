" Vim syntax file
" Language:     vdev device description (.vdev)
" Maintainer:   the vdev project
" The reserved words are dsl/lexer.l's and the access kinds
" compiler/sema.c's; tests/test_editor.c fails when one is missing here.
" A new keyword is one more word on the matching line below.

if exists("b:current_syntax")
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" Reserved words (dsl/lexer.l)
syn keyword vdevStructure  device reg field bar enum var buffer block memory
syn keyword vdevStructure  timer fifo stream event
syn keyword vdevKeyword    use as on extern interrupt capability let
syn keyword vdevConditional if else
syn keyword vdevStatement  raise lower notify dma
syn keyword vdevKeyword    proc return
syn keyword vdevRepeat     for break continue
syn keyword vdevBuiltin    now

" Contextual words: meaningful in their place, still usable as names
syn keyword vdevAccess     rw ro wo w1c w1s rc rs const reserved
syn keyword vdevProperty   vendor subsystem_vendor subsystem class revision
syn keyword vdevProperty   version intx
syn keyword vdevAttribute  size prefetchable mmap stride since nomigrate
syn keyword vdevAttribute  external
syn keyword vdevBarKind    mem32 mem64 io
syn keyword vdevCapability pm msi msix pcie dsn vectors addr64 maskable table
syn keyword vdevCapability pba endpoint legacy integrated speed width serial
syn keyword vdevBuiltin    value old index read write
syn keyword vdevBuiltin    expire receive transmit
syn keyword vdevStatement  start stop emit
syn keyword vdevKeyword    after every
syn keyword vdevType       void bool u8 u16 u32 u64
syn keyword vdevAttribute  sticky when select
syn keyword vdevStructure  config
syn keyword vdevBuiltin    init reset width in max

" Operators first: comments defined later win where both start ("//")
syn match vdevOperator "[-+*/%&|^~!<>=@:]"

" Numbers: decimal (with a K, M or G suffix), hex, binary; _ separates
syn match vdevNumber "\<\d[0-9_]*[KMG]\=\>"
syn match vdevNumber "\<0[xX][0-9a-fA-F_]\+\>"
syn match vdevNumber "\<0[bB][01_]\+\>"

" Strings document what they follow
syn match vdevEscape contained +\\[nt"\\]+
syn region vdevString start=+"+ skip=+\\\\\|\\"+ end=+"+ end=+$+ contains=vdevEscape,@Spell

syn keyword vdevTodo contained TODO FIXME XXX NOTE
syn region vdevComment start="//" end="$" contains=vdevTodo,@Spell
syn region vdevComment start="/\*" end="\*/" contains=vdevTodo,@Spell

hi def link vdevStructure   Structure
hi def link vdevKeyword     Keyword
hi def link vdevConditional Conditional
hi def link vdevStatement   Statement
hi def link vdevRepeat      Repeat
hi def link vdevAccess      StorageClass
hi def link vdevProperty    Identifier
hi def link vdevAttribute   Type
hi def link vdevBarKind     Type
hi def link vdevCapability  Type
hi def link vdevBuiltin     Special
hi def link vdevType        Type
hi def link vdevNumber      Number
hi def link vdevString      String
hi def link vdevEscape      SpecialChar
hi def link vdevTodo        Todo
hi def link vdevComment     Comment
hi def link vdevOperator    Operator

let b:current_syntax = "vdev"

let &cpo = s:cpo_save
unlet s:cpo_save
