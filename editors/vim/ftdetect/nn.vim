" .nn files are nnc models.
autocmd BufRead,BufNewFile *.nn setfiletype nn
