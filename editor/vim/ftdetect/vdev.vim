" .vdev files are vdev device descriptions.
autocmd BufRead,BufNewFile *.vdev setfiletype vdev
