<?php
// The smallest theme WordPress accepts: style.css and index.php.
echo esc_html( get_bloginfo( 'name' ) );
