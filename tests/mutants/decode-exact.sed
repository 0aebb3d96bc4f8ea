# The 40-decode device's BAR 0 generated without `exact`: it decodes by
# byte lanes, so a read wider than a register returns its neighbour's
# bytes instead of the fill.
/\.exact = true,/d
