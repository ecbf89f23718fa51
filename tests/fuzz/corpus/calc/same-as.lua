return { full_class_name = 'a.B', same_as = 'torch.nn.modules.linear.Linear' }
