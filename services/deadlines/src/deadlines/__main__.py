from baocao_shared.service import serve
from deadlines.config import Settings
from deadlines.main import create_app

if __name__ == "__main__":
    serve(create_app, Settings())
