pytest_plugins = ["baocao_testing.fixtures"]
