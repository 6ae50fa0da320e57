from tests.e2e.conftest import module_env  # noqa: F401  (one inbox per module, several runs)
