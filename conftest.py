pytest_plugins = ["baocao_stack.pytest_fixtures"]
