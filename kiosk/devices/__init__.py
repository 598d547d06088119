"""Device drivers: one package per device kind (codec, driver, simulator). Never imports Kivy."""
