# The language reference's UART bank (21-banks): the divisor latch's
# condition is inverted, so with LCR.DLAB set nothing answers at offset 0
# (and with it clear the receive buffer still does).
/^banks_dll_when(/,/^}/ { s/return d->s\.lcr >> 7;/return !(d->s.lcr >> 7);/ }
