# edu's irq_status is declared ro: its register table entry gains a .rw
# mask equal to its read mask, so guest writes now replace it.
/\/\* irq_status: /,/^    },/ s/^\( *\)\.rmask = \(.*\),$/&\n\1.rw = \2,/
