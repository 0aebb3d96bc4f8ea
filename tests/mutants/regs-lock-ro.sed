# The language reference's lock (03-registers) is declared rs: its
# set-on-read goes (the .rs mask is deleted), leaving it read-only.
/\/\* lock: /,/^    },/ { /^ *\.rs = /d }
