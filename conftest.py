pytest_plugins = ["baocao_testing.fixtures", "baocao_testing.signing"]
