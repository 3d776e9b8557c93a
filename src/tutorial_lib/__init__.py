"""tutorial_lib: the library behind the Prompt Transfer Book.

data -> zoo -> prompts -> transfer / panda -> results -> book (see the book's introduction).
"""
__version__ = "0.1.0"
