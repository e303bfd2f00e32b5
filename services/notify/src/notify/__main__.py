from baocao_shared.service import serve
from notify.config import Settings
from notify.main import create_app

if __name__ == "__main__":
    serve(create_app, Settings())
