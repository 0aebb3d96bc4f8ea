# The language reference's config registers (23-config): esb_config is
# declared with rw fields; its .rw mask is deleted, leaving it read-only
# (the checker reaches it in config space).
/\/\* esb_config: /,/^    },/ { /^ *\.rw = /d }
