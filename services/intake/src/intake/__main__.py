from baocao_shared.service import serve
from intake.config import Settings
from intake.main import create_app

if __name__ == "__main__":
    serve(create_app, Settings())
