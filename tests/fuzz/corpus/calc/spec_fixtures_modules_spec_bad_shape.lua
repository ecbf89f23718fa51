-- spec.BadShape: returns a table without the required functions.
return { full_class_name = "spec.BadShape", flops = 3 }
