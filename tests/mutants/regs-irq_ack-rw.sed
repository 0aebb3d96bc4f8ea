# The language reference's irq_ack (03-registers) is declared w1c: its
# clear becomes a plain store (the .w1c mask turns into a .rw mask).
/\/\* irq_ack: /,/^    },/ s/^\( *\)\.w1c = /\1.rw = /
