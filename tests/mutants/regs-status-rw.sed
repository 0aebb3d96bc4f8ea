# 03-registers' status is declared ro: its register table entry gains a
# .rw mask equal to its read mask, so guest writes now replace it. (edu's
# irq_status was the example once; a timer's hook now assigns it, so the
# checker can no longer tell who changed it.)
/\/\* status: /,/^    },/ s/^\( *\)\.rmask = \(.*\),$/&\n\1.rw = \2,/
