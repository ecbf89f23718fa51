return { x = 'a[31mb
