"""Bundle tests: the smoke machinery always; the built bundle only with NKBRIEF_BUNDLE set."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "bundle: runs the built PyInstaller bundle (set NKBRIEF_BUNDLE=dist/nkbrief)")
